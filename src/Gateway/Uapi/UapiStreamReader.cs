namespace Branchgate.Uapi;

/// <summary>
/// Reads one UAPI connection the way wireguard-go's IpcHandle does, so that what a request consumes from the socket is
/// the same byte for byte: operation lines and the byte after <c>get=1</c> come through a bufio.Reader of 4096 bytes;
/// each set request is read by a fresh bufio.Scanner (buffer 4096, doubling up to 64 KiB) stacked on that reader.
/// <para>
/// What the scanner has read beyond a request, wireguard-go drops with the scanner: a client that writes a request
/// after a set without waiting for the answer is never answered. We keep it: after a valid set, the scanner's
/// leftover goes back in front of the reader (<see cref="LineScanner.Finish"/>); after a rejected set only the
/// rest of the rejected request is dropped (the leftover up to and including its empty line). A client that waits
/// for each answer, as <c>wg</c> does, sees no difference.
/// </para>
/// </summary>
internal sealed class UapiStreamReader
{
    /// <summary>bufio.defaultBufSize.</summary>
    public const int ReaderBufferSize = 4096;

    private readonly Stream _stream;
    private readonly TimeSpan _idleTimeout;
    private byte[] _buffer = new byte[ReaderBufferSize];
    private int _read;
    private int _written;
    private bool _endOfStream;

    public UapiStreamReader(Stream stream, TimeSpan idleTimeout)
    {
        _stream = stream;
        _idleTimeout = idleTimeout;
    }

    private int Buffered => _written - _read;

    /// <summary>
    /// bufio.Reader.ReadString('\n') reduced to what IpcHandle does with it: the line is an operation only if it is
    /// exactly "set=1\n" or "get=1\n". Reads (and forgets) a line of any length; null at end of stream.
    /// </summary>
    public async ValueTask<string?> ReadOperationAsync(CancellationToken cancellationToken)
    {
        const int Longest = 6;
        var kept = new byte[Longest];
        var length = 0;
        var scanned = 0;
        while (true)
        {
            var newline = _buffer.AsSpan(_read + scanned, Buffered - scanned).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                Keep(kept, ref length, _buffer.AsSpan(_read, scanned + newline + 1));
                _read += scanned + newline + 1;
                return length == Longest && kept[5] == '\n' ? System.Text.Encoding.ASCII.GetString(kept) : string.Empty;
            }

            if (_endOfStream)
            {
                _read = _written;
                _endOfStream = false;
                return null;
            }

            if (Buffered == _buffer.Length)
            {
                // bufio.ErrBufferFull: ReadString keeps the full buffer and reads on.
                Keep(kept, ref length, _buffer.AsSpan(_read, Buffered));
                _read = _written;
                scanned = 0;
            }
            else
            {
                scanned = Buffered;
            }

            await FillAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static void Keep(byte[] kept, ref int length, ReadOnlySpan<byte> piece)
    {
        // Only the first 6 bytes can matter ("set=1\n"); a longer line is never an operation.
        var copy = Math.Min(piece.Length, kept.Length - length);
        piece[..copy].CopyTo(kept.AsSpan(length));
        length += copy;
        if (piece.Length > copy)
        {
            kept[5] = 0;
            length = kept.Length;
        }
    }

    /// <summary>bufio.Reader.ReadByte: the next byte, or -1 at end of stream.</summary>
    public async ValueTask<int> ReadByteAsync(CancellationToken cancellationToken)
    {
        while (Buffered == 0)
        {
            if (_endOfStream)
            {
                _endOfStream = false;
                return -1;
            }

            await FillAsync(cancellationToken).ConfigureAwait(false);
        }

        return _buffer[_read++];
    }

    /// <summary>bufio.Reader.fill: slide the unread bytes to the front, then one read from the socket.</summary>
    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_read > 0)
        {
            _buffer.AsSpan(_read, Buffered).CopyTo(_buffer);
            _written -= _read;
            _read = 0;
        }

        var count = await ReadStreamAsync(_buffer.AsMemory(_written), cancellationToken).ConfigureAwait(false);
        if (count == 0)
        {
            _endOfStream = true;
        }

        _written += count;
    }

    /// <summary>bufio.Reader.Read, as the scanner calls it: buffered bytes first, large reads straight from the socket.</summary>
    private async ValueTask<int> ReadForScannerAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (Buffered == 0)
        {
            if (_endOfStream)
            {
                _endOfStream = false;
                return 0;
            }

            if (destination.Length >= _buffer.Length)
            {
                return await ReadStreamAsync(destination, cancellationToken).ConfigureAwait(false);
            }

            _read = 0;
            _written = await ReadStreamAsync(_buffer, cancellationToken).ConfigureAwait(false);
            if (_written == 0)
            {
                return 0;
            }
        }

        var count = Math.Min(destination.Length, Buffered);
        _buffer.AsMemory(_read, count).CopyTo(destination);
        _read += count;
        return count;
    }

    /// <summary>Puts bytes back in front of everything still unread.</summary>
    private void Unread(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        var merged = new byte[Math.Max(ReaderBufferSize, bytes.Length + Buffered)];
        bytes.CopyTo(merged);
        _buffer.AsSpan(_read, Buffered).CopyTo(merged.AsSpan(bytes.Length));
        _written = bytes.Length + Buffered;
        _read = 0;
        _buffer = merged;
    }

    private async ValueTask<int> ReadStreamAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (_idleTimeout != Timeout.InfiniteTimeSpan)
        {
            idle.CancelAfter(_idleTimeout);
        }

        return await _stream.ReadAsync(destination, idle.Token).ConfigureAwait(false);
    }

    public LineScanner BeginScan() => new(this);

    /// <summary>What <see cref="LineScanner.ScanAsync"/> found.</summary>
    public enum ScanOutcome
    {
        /// <summary>A line (without its '\n'; a final line at end of stream has none).</summary>
        Line,

        /// <summary>End of stream, no more lines.</summary>
        EndOfStream,

        /// <summary>bufio.ErrTooLong: 65536 bytes without a '\n' (those bytes are consumed).</summary>
        TooLong,

        /// <summary>The socket failed.</summary>
        Failed,
    }

    /// <summary>bufio.Scanner with ScanLines over this reader, for one set request.</summary>
    internal sealed class LineScanner
    {
        private const int StartSize = 4096;
        private const int MaxSize = 64 * 1024;

        private readonly UapiStreamReader _reader;
        private byte[] _buffer = [];
        private int _start;
        private int _end;
        private bool _endOfStream;
        private bool _failed;

        public LineScanner(UapiStreamReader reader) => _reader = reader;

        /// <summary>The next line; valid until the next call.</summary>
        public async ValueTask<(ScanOutcome Outcome, ReadOnlyMemory<byte> Line)> ScanAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                if (_end > _start || _endOfStream || _failed)
                {
                    var newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
                    if (newline >= 0)
                    {
                        var line = _buffer.AsMemory(_start, newline);
                        _start += newline + 1;
                        return (ScanOutcome.Line, line);
                    }

                    if ((_endOfStream || _failed) && _end > _start)
                    {
                        var last = _buffer.AsMemory(_start, _end - _start);
                        _start = _end;
                        return (ScanOutcome.Line, last);
                    }
                }

                if (_failed || _endOfStream)
                {
                    _start = _end = 0;
                    return (_failed ? ScanOutcome.Failed : ScanOutcome.EndOfStream, default);
                }

                if (_start > 0 && (_end == _buffer.Length || _start > _buffer.Length / 2))
                {
                    _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                    _end -= _start;
                    _start = 0;
                }

                if (_end == _buffer.Length)
                {
                    if (_buffer.Length >= MaxSize)
                    {
                        _start = _end = 0;
                        return (ScanOutcome.TooLong, default);
                    }

                    var larger = new byte[Math.Min(_buffer.Length == 0 ? StartSize : _buffer.Length * 2, MaxSize)];
                    _buffer.AsSpan(_start, _end - _start).CopyTo(larger);
                    _end -= _start;
                    _start = 0;
                    _buffer = larger;
                }

                try
                {
                    var count = await _reader.ReadForScannerAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
                    _end += count;
                    _endOfStream = count == 0;
                }
                catch (IOException)
                {
                    _failed = true;
                }
            }
        }

        /// <summary>
        /// The request is over. After a valid request, what the scanner read beyond it goes back to the reader; after
        /// a rejected one, the rest of that request (up to and including an empty line) is dropped first.
        /// </summary>
        public void Finish(bool rejected)
        {
            var leftover = _buffer.AsSpan(_start, _end - _start);
            while (rejected && !leftover.IsEmpty)
            {
                var newline = leftover.IndexOf((byte)'\n');
                if (newline < 0)
                {
                    leftover = default;
                    break;
                }

                var line = leftover[..newline];
                leftover = leftover[(newline + 1)..];
                if (line.IsEmpty || (line.Length == 1 && line[0] == '\r'))
                {
                    break;
                }
            }

            _reader.Unread(leftover);
            _start = _end = 0;
        }
    }
}
