using System.Numerics;
using System.Runtime.Intrinsics;
using Branchgate.Crypto;

namespace Branchgate.Tests.Crypto;

/// <summary>
/// The radix-2^26 arithmetic of the vector Poly1305 paths, piece by piece, against BigInteger at the edges of the limb
/// bounds stated in Poly1305.Radix26.cs. A carry that goes wrong once in 2^26 random messages is out of reach of
/// end-to-end tests; here the inputs are built to hit it: limbs whose low 26 bits are all ones, so that the one carry
/// that arrives late ripples, and every limb at the largest value the loops can feed in.
/// </summary>
public class Poly1305LimbTests
{
    private static readonly BigInteger P = (BigInteger.One << 130) - 5;
    private const ulong Mask26 = (1UL << 26) - 1;

    public static TheoryData<int> LaneCounts => new() { 2, 4 };

    private static BigInteger Value(ReadOnlySpan<ulong> limbs)
    {
        BigInteger value = BigInteger.Zero;
        for (int i = 4; i >= 0; i--)
        {
            value = (value << 26) + limbs[i];
        }
        return value;
    }

    private static BigInteger Mod(BigInteger x) => ((x % P) + P) % P;

    /// <summary>
    /// Five limbs below <paramref name="bound"/> (a power of two): random (shape 0), all at the maximum (1), random with
    /// the low 26 bits all ones (2), or each at the maximum or random (3).
    /// </summary>
    private static ulong[] Limbs(Random random, ulong bound, int shape)
    {
        var limbs = new ulong[5];
        for (int i = 0; i < 5; i++)
        {
            ulong value = (ulong)random.NextInt64() & (bound - 1);
            limbs[i] = shape switch
            {
                0 => value,
                1 => bound - 1,
                2 => (value | Mask26) & (bound - 1),
                _ => random.Next(2) == 0 ? bound - 1 : value,
            };
        }
        return limbs;
    }

    /// <summary>
    /// The lazy carry keeps the value mod p and leaves limbs 0, 2, 3 below 2^26, limb 1 below 2^26 + 2^13 and limb 4
    /// below 2^26 + 2^11, for any limbs below 2^62 (what a double step can add up to).
    /// </summary>
    [Theory]
    [MemberData(nameof(LaneCounts))]
    public void LazyCarry_KeepsTheValueAndBoundsTheLimbs(int lanes)
    {
        var random = new Random(26 + lanes);
        const ulong bound = 1UL << 62;
        for (int trial = 0; trial < 20000; trial++)
        {
            var input = new ulong[lanes][];
            for (int lane = 0; lane < lanes; lane++)
            {
                ulong[] d = Limbs(random, bound, trial % 4);
                if (trial % 3 == 0)
                {
                    // Limb 4 lands on 2^26 - 1 right after its own carry, limb 3 on all ones: the carry that limb 3
                    // passes on last has to ripple through limb 4.
                    d[3] |= Mask26;
                    d[4] = (d[4] & ~Mask26) | ((Mask26 - (d[3] >> 26)) & Mask26);
                }
                input[lane] = d;
            }

            ulong[][] output = Carry(lanes, input);
            for (int lane = 0; lane < lanes; lane++)
            {
                ulong[] o = output[lane];
                Assert.True(Mod(Value(input[lane])) == Mod(Value(o)), $"trial {trial} lane {lane}: value changed");
                Assert.True(o[0] <= Mask26 && o[2] <= Mask26 && o[3] <= Mask26, $"trial {trial}: limb 0, 2 or 3 above 2^26");
                Assert.True(o[1] < (1UL << 26) + (1UL << 13) && o[4] < (1UL << 26) + (1UL << 11), $"trial {trial}: limb 1 or 4 too large");
            }
        }
    }

    /// <summary>
    /// One loop step's arithmetic, (h * k) then the lazy carry, and the double step's h * k8 + n * k4, with every limb
    /// at or near its bound (h below 2^28, multipliers below 2^27, message limbs below 2^26): no 64-bit sum overflows.
    /// </summary>
    [Theory]
    [MemberData(nameof(LaneCounts))]
    public void MultiplyAndCarry_AtTheLimbBounds_MatchesBigInteger(int lanes)
    {
        var random = new Random(130 + lanes);
        for (int trial = 0; trial < 5000; trial++)
        {
            int shape = trial % 4;
            var h = new ulong[lanes][];
            var k = new ulong[lanes][];
            var n = new ulong[lanes][];
            var k2 = new ulong[lanes][];
            for (int lane = 0; lane < lanes; lane++)
            {
                h[lane] = Limbs(random, 1UL << 28, shape);
                k[lane] = Limbs(random, 1UL << 27, shape);
                n[lane] = Limbs(random, 1UL << 26, shape);
                k2[lane] = Limbs(random, 1UL << 27, (shape + 1) % 4);
            }

            ulong[][] single = MultiplyAndCarry(lanes, h, k, null, null);
            ulong[][] both = MultiplyAndCarry(lanes, h, k, n, k2);
            for (int lane = 0; lane < lanes; lane++)
            {
                BigInteger product = Mod(Value(h[lane]) * Value(k[lane]));
                Assert.True(product == Mod(Value(single[lane])), $"trial {trial} lane {lane}: h * k");
                BigInteger sum = Mod(product + Value(n[lane]) * Value(k2[lane]));
                Assert.True(sum == Mod(Value(both[lane])), $"trial {trial} lane {lane}: h * k + n * k'");
            }
        }
    }

    /// <summary>
    /// Radix 2^64 to 2^26 and back: any partially reduced h (below 2^131) and any lane sum (limbs below 2^29) come back
    /// as the same number mod p, below 2^130 + 2^26, with limbs that do not overlap.
    /// </summary>
    [Fact]
    public void Radix26_Conversions_KeepTheValue()
    {
        var random = new Random(264);
        for (int trial = 0; trial < 20000; trial++)
        {
            ulong h0 = (ulong)random.NextInt64() | (trial % 2 == 0 ? ulong.MaxValue : 0);
            ulong h1 = (ulong)random.NextInt64() | (trial % 3 == 0 ? ulong.MaxValue : 0);
            ulong h2 = (ulong)random.Next(8);
            BigInteger h = new BigInteger(h0) + (new BigInteger(h1) << 64) + (new BigInteger(h2) << 128);
            var limbs = new Poly1305.Radix26(h0, h1, h2);
            Assert.Equal(h, Value([limbs.L0, limbs.L1, limbs.L2, limbs.L3, limbs.L4]));

            ulong[] sums = Limbs(random, 1UL << 29, trial % 4);
            var sum = new Poly1305.Radix26 { L0 = sums[0], L1 = sums[1], L2 = sums[2], L3 = sums[3], L4 = sums[4] };
            sum.ToRadix64(out ulong g0, out ulong g1, out ulong g2);
            BigInteger g = new BigInteger(g0) + (new BigInteger(g1) << 64) + (new BigInteger(g2) << 128);
            Assert.Equal(Mod(Value(sums)), Mod(g));
            Assert.True(g < (BigInteger.One << 130) + (BigInteger.One << 26), $"trial {trial}: not reduced enough");
        }
    }

    private static ulong[][] Carry(int lanes, ulong[][] input)
    {
        if (lanes == 4)
        {
            Vector256<ulong> d0 = Lane256(input, 0), d1 = Lane256(input, 1), d2 = Lane256(input, 2), d3 = Lane256(input, 3), d4 = Lane256(input, 4);
            Poly1305.Carry256(ref d0, ref d1, ref d2, ref d3, ref d4);
            return Unlane256(d0, d1, d2, d3, d4);
        }
        Vector128<ulong> e0 = Lane128(input, 0), e1 = Lane128(input, 1), e2 = Lane128(input, 2), e3 = Lane128(input, 3), e4 = Lane128(input, 4);
        Poly1305.Carry128(ref e0, ref e1, ref e2, ref e3, ref e4);
        return Unlane128(e0, e1, e2, e3, e4);
    }

    private static ulong[][] MultiplyAndCarry(int lanes, ulong[][] h, ulong[][] k, ulong[][]? n, ulong[][]? k2)
    {
        if (lanes == 4)
        {
            Poly1305.Multiplier256 m = default, m2 = default;
            Poly1305.SetMultiplier(ref m, Lane256(k, 0), Lane256(k, 1), Lane256(k, 2), Lane256(k, 3), Lane256(k, 4));
            var hLanes = new Poly1305.Lanes256 { L0 = Lane256(h, 0), L1 = Lane256(h, 1), L2 = Lane256(h, 2), L3 = Lane256(h, 3), L4 = Lane256(h, 4) };
            Poly1305.Product256(ref hLanes, ref m, out Poly1305.Lanes256 d);
            if (n is not null && k2 is not null)
            {
                Poly1305.SetMultiplier(ref m2, Lane256(k2, 0), Lane256(k2, 1), Lane256(k2, 2), Lane256(k2, 3), Lane256(k2, 4));
                var nLanes = new Poly1305.Lanes256 { L0 = Lane256(n, 0), L1 = Lane256(n, 1), L2 = Lane256(n, 2), L3 = Lane256(n, 3), L4 = Lane256(n, 4) };
                Poly1305.Product256(ref nLanes, ref m2, out Poly1305.Lanes256 e);
                (d.L0, d.L1, d.L2, d.L3, d.L4) = (d.L0 + e.L0, d.L1 + e.L1, d.L2 + e.L2, d.L3 + e.L3, d.L4 + e.L4);
            }
            Poly1305.Carry256(ref d.L0, ref d.L1, ref d.L2, ref d.L3, ref d.L4);
            return Unlane256(d.L0, d.L1, d.L2, d.L3, d.L4);
        }
        else
        {
            Poly1305.Multiplier128 m = default, m2 = default;
            Poly1305.SetMultiplier(ref m, Lane128(k, 0), Lane128(k, 1), Lane128(k, 2), Lane128(k, 3), Lane128(k, 4));
            var hLanes = new Poly1305.Lanes128 { L0 = Lane128(h, 0), L1 = Lane128(h, 1), L2 = Lane128(h, 2), L3 = Lane128(h, 3), L4 = Lane128(h, 4) };
            Poly1305.Product128(ref hLanes, ref m, out Poly1305.Lanes128 d);
            if (n is not null && k2 is not null)
            {
                Poly1305.SetMultiplier(ref m2, Lane128(k2, 0), Lane128(k2, 1), Lane128(k2, 2), Lane128(k2, 3), Lane128(k2, 4));
                var nLanes = new Poly1305.Lanes128 { L0 = Lane128(n, 0), L1 = Lane128(n, 1), L2 = Lane128(n, 2), L3 = Lane128(n, 3), L4 = Lane128(n, 4) };
                Poly1305.Product128(ref nLanes, ref m2, out Poly1305.Lanes128 e);
                (d.L0, d.L1, d.L2, d.L3, d.L4) = (d.L0 + e.L0, d.L1 + e.L1, d.L2 + e.L2, d.L3 + e.L3, d.L4 + e.L4);
            }
            Poly1305.Carry128(ref d.L0, ref d.L1, ref d.L2, ref d.L3, ref d.L4);
            return Unlane128(d.L0, d.L1, d.L2, d.L3, d.L4);
        }
    }

    private static Vector256<ulong> Lane256(ulong[][] x, int limb) => Vector256.Create(x[0][limb], x[1][limb], x[2][limb], x[3][limb]);

    private static Vector128<ulong> Lane128(ulong[][] x, int limb) => Vector128.Create(x[0][limb], x[1][limb]);

    private static ulong[][] Unlane256(params Vector256<ulong>[] limbs) =>
        [.. Enumerable.Range(0, 4).Select(lane => limbs.Select(l => l[lane]).ToArray())];

    private static ulong[][] Unlane128(params Vector128<ulong>[] limbs) =>
        [.. Enumerable.Range(0, 2).Select(lane => limbs.Select(l => l[lane]).ToArray())];
}
