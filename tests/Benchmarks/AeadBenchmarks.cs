using BenchmarkDotNet.Attributes;
using Branchgate.Crypto;
using NSec.Cryptography;
using DotNetAead = System.Security.Cryptography.ChaCha20Poly1305;
using Ours = Branchgate.Crypto.ChaCha20Poly1305;

namespace Branchgate.Benchmarks;

/// <summary>
/// Seal (encrypt + tag) of one WireGuard-sized message: ours (widest vector path the CPU has, and each width forced),
/// NSec (libsodium) and .NET's OpenSSL-backed class. Throughput column = bytes sealed per second.
/// </summary>
[MemoryDiagnoser]
public class AeadBenchmarks
{
    private readonly byte[] _key = new byte[32];
    private readonly byte[] _nonce = new byte[12];
    private readonly byte[] _tag = new byte[16];
    private byte[] _plain = [];
    private byte[] _cipher = [];
    private Key? _nsecKey;
    private DotNetAead? _platform;

    [Params(64, 512, 1420, 8192)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Random.Shared.NextBytes(_key);
        _plain = new byte[Size];
        _cipher = new byte[Size + 16];
        Random.Shared.NextBytes(_plain);
        _nsecKey = Key.Import(AeadAlgorithm.ChaCha20Poly1305, _key, KeyBlobFormat.RawSymmetricKey);
        _platform = new DotNetAead(_key);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _nsecKey?.Dispose();
        _platform?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void Branchgate() => Ours.Seal(_key, 7UL, _plain, _cipher.AsSpan(0, Size), _tag, default);

    [Benchmark]
    public void Branchgate_Vector256() =>
        Ours.Seal(ChaChaWidth.Vector256, _key, _nonce, _plain, _cipher.AsSpan(0, Size), _tag, default);

    [Benchmark]
    public void Branchgate_Vector128() =>
        Ours.Seal(ChaChaWidth.Vector128, _key, _nonce, _plain, _cipher.AsSpan(0, Size), _tag, default);

    [Benchmark]
    public void Branchgate_Scalar() =>
        Ours.Seal(ChaChaWidth.Scalar, _key, _nonce, _plain, _cipher.AsSpan(0, Size), _tag, default);

    [Benchmark]
    public void NSec() => AeadAlgorithm.ChaCha20Poly1305.Encrypt(_nsecKey!, _nonce, default, _plain, _cipher);

    [Benchmark]
    public void DotNet() => _platform!.Encrypt(_nonce, _plain, _cipher.AsSpan(0, Size), _tag);
}

/// <summary>The two halves of the AEAD alone, per path, on one message: where the time goes.</summary>
public class AeadPartsBenchmarks
{
    private readonly byte[] _key = new byte[32];
    private readonly byte[] _nonce = new byte[12];
    private readonly byte[] _tag = new byte[16];
    private byte[] _data = [];

    [Params(1420)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Random.Shared.NextBytes(_key);
        _data = new byte[Size];
        Random.Shared.NextBytes(_data);
    }

    [Benchmark]
    public void ChaCha20_Vector512() => ChaCha20.Xor(ChaChaWidth.Vector512, _key, _nonce, 1, _data, _data);

    [Benchmark]
    public void ChaCha20_Vector256() => ChaCha20.Xor(ChaChaWidth.Vector256, _key, _nonce, 1, _data, _data);

    [Benchmark]
    public void ChaCha20_Vector128() => ChaCha20.Xor(ChaChaWidth.Vector128, _key, _nonce, 1, _data, _data);

    [Benchmark]
    public void Poly1305_Scalar() => Poly1305.Compute(_key, _data, _tag);
}
