using System;
using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Locksmith.Postgres;

/// <summary>
/// One PostgreSQL advisory-lock key as <c>pg_locks</c> shows it: <c>classid</c>, <c>objid</c> and <c>objsubid</c>
/// (1 for the bigint form, 2 for the two-int4 form). The two forms never collide: the server keys them apart.
/// </summary>
internal readonly record struct AdvisoryKey(int Hi, int Lo, short SubId) : IComparable<AdvisoryKey>
{
    public const short BigintForm = 1;
    public const short PairForm = 2;

    /// <summary>The bigint form of a named (unkeyed) lock: the first 8 bytes of SHA-256 of its name.</summary>
    public static AdvisoryKey ForName(string name)
    {
        long value = BinaryPrimitives.ReadInt64BigEndian(Hash(name));
        return new AdvisoryKey((int)(value >> 32), (int)value, BigintForm);
    }

    /// <summary>The class id of a keyed lock: the first 4 bytes of SHA-256 of its name.</summary>
    public static int ClassIdOf(string name) => BinaryPrimitives.ReadInt32BigEndian(Hash(name));

    /// <summary>The two-int4 form: the class, then the key within it.</summary>
    public static AdvisoryKey ForPair(int classId, int key) => new(classId, key, PairForm);

    public long BigintValue => ((long)Hi << 32) | (uint)Lo;

    /// <summary>The global order among distributed locks of one level: the same in every process.</summary>
    public int CompareTo(AdvisoryKey other)
    {
        int c = SubId.CompareTo(other.SubId);
        if (c == 0)
        {
            c = Hi.CompareTo(other.Hi);
        }

        return c != 0 ? c : Lo.CompareTo(other.Lo);
    }

    /// <summary>As the server's messages print it (<c>[db,classid,objid,objsubid]</c> without the database).</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"[{(uint)Hi},{(uint)Lo},{SubId}]");

    private static byte[] Hash(string name) => SHA256.HashData(Encoding.UTF8.GetBytes(name));
}
