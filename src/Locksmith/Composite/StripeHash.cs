using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Locksmith;

/// <summary>
/// The hashes a striped lock picks a stripe with: a fast, non-randomised ordinal hash for string keys under the
/// default comparer, and the bit spreading applied to every other key's hash code.
/// </summary>
/// <remarks>
/// <para>The default string hash (<see cref="string.GetHashCode()"/>) is Marvin with a per-process random seed, built
/// to resist hash flooding of dictionaries; for keys of 8 to 24 chars it costs more than the lock it picks. A stripe
/// needs no such defence: the hash only chooses which of a fixed set of locks guards the key, never how many buckets
/// are probed, so an attacker who chooses colliding keys can at worst pile them on one stripe — the keys then share
/// one lock, exactly as if the lock had a single stripe. Equality of keys is never decided by this hash.</para>
/// <para><see cref="Ordinal(string)"/> reads the string's UTF-16 data as 64-bit words and folds them with 64x64→128-bit
/// multiplications (the scheme of wyhash): one multiplication for up to 8 chars, two independent ones for up to 16
/// chars, two more per further 16 chars. Every input bit reaches the low bits the stripe mask keeps. It is the same
/// in every process, so equal strings always map to the same stripe.</para>
/// </remarks>
internal static class StripeHash
{
    // Odd constants with mixed bits (wyhash's secrets): they keep a zero word from cancelling the product.
    private const ulong Secret0 = 0xa0761d6478bd642f;
    private const ulong Secret1 = 0xe7037ed1a0b428db;
    private const ulong Secret2 = 0x8ebc6af09c88c6e3;

    /// <summary>A non-randomised hash of the chars of <paramref name="key"/>, equal for equal strings.</summary>
    /// <remarks>Left to the JIT to inline or call: one direct call is cheaper than a large inlined body at every site.</remarks>
    internal static int Ordinal(string key)
    {
        ref byte data = ref Unsafe.As<char, byte>(ref MemoryMarshal.GetReference(key.AsSpan()));
        int bytes = key.Length * sizeof(char);
        ulong seed = Secret0 ^ (uint)bytes;
        if (bytes > 16)
        {
            // 9 to 16 chars (the common "customer:12345"): two independent products, so their latencies overlap.
            return bytes <= 32
                ? Fold(Mum(Read64(ref data, 0) ^ Secret1, Read64(ref data, 8) ^ seed)
                    ^ Mum(Read64(ref data, bytes - 16) ^ Secret2, Read64(ref data, bytes - 8) ^ seed))
                : Long(ref data, bytes, seed);
        }

        ulong a, b;
        if (bytes >= 8)
        {
            // 4 to 8 chars: the first and the last 8 bytes (overlapping when shorter than 16).
            a = Read64(ref data, 0);
            b = Read64(ref data, bytes - 8);
        }
        else if (bytes >= 4)
        {
            a = Read32(ref data, 0);
            b = Read32(ref data, bytes - 4);
        }
        else
        {
            a = bytes == 0 ? 0UL : Unsafe.As<byte, ushort>(ref data);
            b = 0;
        }

        return Fold(Mum(a ^ Secret1, b ^ seed));
    }

    /// <summary>
    /// More than 16 chars: two lanes over whole 32-byte blocks, then the last 32 bytes (overlapping the previous block).
    /// </summary>
    private static int Long(ref byte data, int bytes, ulong seed)
    {
        ulong first = seed, second = seed;
        for (int offset = 0; bytes - offset > 32; offset += 32)
        {
            first = Mum(Read64(ref data, offset) ^ Secret1, Read64(ref data, offset + 8) ^ first);
            second = Mum(Read64(ref data, offset + 16) ^ Secret2, Read64(ref data, offset + 24) ^ second);
        }

        return Fold(Mum(Read64(ref data, bytes - 32) ^ Secret1, Read64(ref data, bytes - 24) ^ first)
            ^ Mum(Read64(ref data, bytes - 16) ^ Secret2, Read64(ref data, bytes - 8) ^ second));
    }

    /// <summary>Spreads a hash code's high bits down before the stripe mask keeps only the low ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Spread(int hash) => hash ^ (hash >>> 16) ^ (hash >>> 8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Fold(ulong mixed) => (int)mixed ^ (int)(mixed >> 32);

    /// <summary>The two halves of the 128-bit product, xor-ed: the high half carries every bit of both inputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mum(ulong a, ulong b)
    {
        ulong high = Math.BigMul(a, b, out ulong low);
        return high ^ low;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Read64(ref byte data, int offset) => Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref data, offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Read32(ref byte data, int offset) => Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref data, offset));
}
