using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Branchgate.Crypto;

namespace Branchgate.Cli;

/// <summary>genkey, pubkey and genpsk: the same input and output as wg(8)'s, byte for byte.</summary>
internal static class KeyCommands
{
    /// <summary>More than any key line could be; stops a hostile stdin from being read forever.</summary>
    private const int MaxInput = 4096;

    public static int GenKey(ReadOnlySpan<string> rest, TextWriter stdout, TextWriter stderr)
    {
        if (!CommandLine.NoArguments("genkey", rest, stderr))
        {
            return 1;
        }

        Span<byte> key = stackalloc byte[X25519.KeySize];
        X25519.GeneratePrivateKey(key);
        WriteKey(key, stdout);
        return 0;
    }

    public static int GenPsk(ReadOnlySpan<string> rest, TextWriter stdout, TextWriter stderr)
    {
        if (!CommandLine.NoArguments("genpsk", rest, stderr))
        {
            return 1;
        }

        Span<byte> key = stackalloc byte[X25519.KeySize];
        RandomNumberGenerator.Fill(key);
        WriteKey(key, stdout);
        return 0;
    }

    public static int PubKey(ReadOnlySpan<string> rest, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        if (!CommandLine.NoArguments("pubkey", rest, stderr))
        {
            return 1;
        }

        Span<char> input = stackalloc char[MaxInput];
        var length = ReadBounded(stdin, input);
        Span<byte> privateKey = stackalloc byte[X25519.KeySize];
        Span<byte> publicKey = stackalloc byte[X25519.KeySize];
        try
        {
            if (length < 0 || !KeyEncoding.TryFromBase64(input[..length].Trim(), privateKey))
            {
                stderr.WriteLine("branchgate pubkey: Key is not the correct length or format");
                return 1;
            }

            X25519.DerivePublicKey(privateKey, publicKey);
            stdout.Write(KeyEncoding.ToBase64(publicKey));
            stdout.Write('\n');
            return 0;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(privateKey);
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(input));
        }
    }

    /// <summary>Prints a secret key without leaving a copy in a managed string, then erases it.</summary>
    private static void WriteKey(Span<byte> key, TextWriter stdout)
    {
        Span<char> text = stackalloc char[KeyEncoding.Base64Length + 1];
        Convert.TryToBase64Chars(key, text, out var written);
        text[written] = '\n';
        stdout.Write(text[..(written + 1)]);
        stdout.Flush();
        CryptographicOperations.ZeroMemory(key);
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(text));
    }

    /// <summary>Reads stdin into <paramref name="buffer"/>; -1 when there is more than fits.</summary>
    private static int ReadBounded(TextReader reader, Span<char> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = reader.Read(buffer[total..]);
            if (read == 0)
            {
                return total;
            }

            total += read;
        }

        return reader.Peek() == -1 ? total : -1;
    }
}
