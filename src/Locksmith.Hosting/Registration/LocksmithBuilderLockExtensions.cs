using System;
using System.Collections.Generic;
using Locksmith;
using Locksmith.Hosting;

// In the namespace of AddLocksmith, as Microsoft.Extensions builders keep theirs: one using reaches the whole chain.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Declares named locks of the runtime's kinds on an <see cref="ILocksmithBuilder"/>. Each lock is a keyed singleton
/// under its name (<c>[FromKeyedServices("ledger")] ExclusiveLock ledger</c>) and appears in <see cref="ILockCatalog"/>.
/// </summary>
public static class LocksmithBuilderLockExtensions
{
    /// <summary>Declares an <see cref="ExclusiveLock"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The lock's name and service key.</param>
    /// <param name="level">Its level in the global lock order, or null for unordered.</param>
    /// <returns>The builder.</returns>
    public static ILocksmithBuilder AddExclusiveLock(this ILocksmithBuilder builder, string name, int? level = null) =>
        builder.Register(name, _ => new ExclusiveLock(name, level),
            static l => new LockState(l.IsHeld, l.OwnerThreadId));

    /// <summary>Declares a <see cref="ReentrantLock"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The lock's name and service key.</param>
    /// <param name="level">Its level in the global lock order, or null for unordered.</param>
    /// <returns>The builder.</returns>
    public static ILocksmithBuilder AddReentrantLock(this ILocksmithBuilder builder, string name, int? level = null) =>
        builder.Register(name, _ => new ReentrantLock(name, level),
            static l => new LockState(l.IsHeld, l.OwnerThreadId));

    /// <summary>Declares a <see cref="ReadWriteLock"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The lock's name and service key.</param>
    /// <param name="level">Its level in the global lock order, or null for unordered.</param>
    /// <param name="policy">Who goes first when readers and writers wait.</param>
    /// <returns>The builder.</returns>
    public static ILocksmithBuilder AddReadWriteLock(
        this ILocksmithBuilder builder, string name, int? level = null, ReadWritePolicy policy = ReadWritePolicy.WriterPreferred) =>
        builder.Register(name, _ => new ReadWriteLock(name, level, policy), static l =>
        {
            int readers = l.CurrentReaderCount;
            int writer = l.WriterThreadId;
            return new LockState(writer != 0 || readers > 0, writer, SharedCount: readers);
        });

    /// <summary>Declares a <see cref="CountingSemaphore"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The lock's name and service key.</param>
    /// <param name="initialCount">The permits free at the start.</param>
    /// <param name="maxCount">The most permits it can hold.</param>
    /// <param name="level">Its level in the global lock order, or null for unordered.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="maxCount"/> is not positive, or <paramref name="initialCount"/> is negative or above it; the
    /// message names the lock.
    /// </exception>
    public static ILocksmithBuilder AddCountingSemaphore(
        this ILocksmithBuilder builder, string name, int initialCount, int maxCount, int? level = null) =>
        CheckPermits(builder, name, initialCount, maxCount).Register(name, _ => new CountingSemaphore(initialCount, maxCount, name, level), l =>
        {
            // Taken from the permits it was declared with, not from its maximum: one declared below its maximum holds
            // nothing until a take (a signal that added permits reads as none taken).
            int taken = Math.Max(0, initialCount - l.CurrentCount);
            return new LockState(taken > 0, WaitingCount: l.WaitingCount, SharedCount: taken);
        });

    /// <summary>Declares an <see cref="AsyncExclusiveLock"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The lock's name and service key.</param>
    /// <param name="level">Its level in the global lock order, or null for unordered.</param>
    /// <returns>The builder.</returns>
    public static ILocksmithBuilder AddAsyncExclusiveLock(this ILocksmithBuilder builder, string name, int? level = null) =>
        builder.Register(name, _ => new AsyncExclusiveLock(name, level),
            static l => new LockState(l.IsHeld, l.HolderFlowId, WaitingCount: l.WaitingCount));

    /// <summary>Declares an <see cref="AsyncReadWriteLock"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The lock's name and service key.</param>
    /// <param name="level">Its level in the global lock order (both modes), or null for unordered.</param>
    /// <param name="policy">Whom the lock lets in first when readers and writers compete.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// The catalog shows whether it is write-held and by which flow, how many flows read and how many wait.
    /// </remarks>
    public static ILocksmithBuilder AddAsyncReadWriteLock(
        this ILocksmithBuilder builder, string name, int? level = null, ReadWritePolicy policy = ReadWritePolicy.WriterPreferred) =>
        builder.Register(name, _ => new AsyncReadWriteLock(name, level, policy), static l =>
        {
            int readers = l.CurrentReaderCount;
            return new LockState(l.IsWriteHeld || readers > 0, l.WriterFlowId, WaitingCount: l.WaitingCount, SharedCount: readers);
        });

    /// <summary>
    /// Declares an <see cref="AsyncStripedLock{TKey}"/>: <paramref name="stripeCount"/> async exclusive locks shared by
    /// hashed keys.
    /// </summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The lock's name and service key; stripes are named <c>name[i]</c>.</param>
    /// <param name="stripeCount">
    /// How many stripes, 1 to 65,536, rounded up to a power of two (3 gives 4), as the lock's constructor does; when null,
    /// the count of its parameterless constructor (64, or four per processor where that is more).
    /// </param>
    /// <param name="level">The level of every stripe in the global lock order, or null for unordered.</param>
    /// <param name="comparer">Compares and hashes keys; the default comparer when null.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stripeCount"/> is not 1 to 65,536; the message names the lock.</exception>
    /// <remarks>
    /// Its holds and waits are on its stripes, which the lock does not expose, so the catalog lists its name, kind and
    /// level with an empty <see cref="LockState"/>, as for <see cref="StripedLock{TKey}"/>.
    /// </remarks>
    public static ILocksmithBuilder AddAsyncStripedLock<TKey>(
        this ILocksmithBuilder builder, string name, int? stripeCount = null, int? level = null, IEqualityComparer<TKey>? comparer = null)
    {
        int stripes = stripeCount ?? DefaultStripeCount;
        return CheckStripeCount(builder, name, stripes).Register(name, _ => new AsyncStripedLock<TKey>(stripes, name, level, comparer));
    }

    /// <summary>Declares a <see cref="StripedLock{TKey}"/>: <paramref name="stripeCount"/> exclusive locks shared by hashed keys.</summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The lock's name and service key.</param>
    /// <param name="stripeCount">
    /// How many stripes, 1 to 65,536, rounded up to a power of two (3 gives 4), as the lock's constructor does; when null,
    /// the count of its parameterless constructor (64, or four per processor where that is more).
    /// </param>
    /// <param name="level">Its level in the global lock order, or null for unordered.</param>
    /// <param name="comparer">Compares and hashes keys; the default comparer when null.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stripeCount"/> is not 1 to 65,536; the message names the lock.</exception>
    public static ILocksmithBuilder AddStripedLock<TKey>(
        this ILocksmithBuilder builder, string name, int? stripeCount = null, int? level = null, IEqualityComparer<TKey>? comparer = null)
    {
        int stripes = stripeCount ?? DefaultStripeCount;
        return CheckStripeCount(builder, name, stripes).Register(name, _ => new StripedLock<TKey>(stripes, name, level, comparer));
    }

    /// <summary>Declares a <see cref="StripedReadWriteLock{TKey}"/>: <paramref name="stripeCount"/> read-write locks shared by hashed keys.</summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The lock's name and service key.</param>
    /// <param name="stripeCount">
    /// How many stripes, 1 to 65,536, rounded up to a power of two (3 gives 4), as the lock's constructor does; when null,
    /// the count of its parameterless constructor (64, or four per processor where that is more).
    /// </param>
    /// <param name="level">Its level in the global lock order, or null for unordered.</param>
    /// <param name="policy">Who goes first when readers and writers wait, on every stripe.</param>
    /// <param name="comparer">Compares and hashes keys; the default comparer when null.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stripeCount"/> is not 1 to 65,536; the message names the lock.</exception>
    public static ILocksmithBuilder AddStripedReadWriteLock<TKey>(
        this ILocksmithBuilder builder, string name, int? stripeCount = null, int? level = null,
        ReadWritePolicy policy = ReadWritePolicy.WriterPreferred, IEqualityComparer<TKey>? comparer = null)
    {
        int stripes = stripeCount ?? DefaultStripeCount;
        return CheckStripeCount(builder, name, stripes).Register(name, _ => new StripedReadWriteLock<TKey>(stripes, name, level, policy, comparer));
    }

    /// <summary>Declares a <see cref="SpinGate"/> (for critical sections under about a microsecond).</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The lock's name and service key.</param>
    /// <param name="level">Its level in the global lock order, or null for unordered.</param>
    /// <returns>The builder.</returns>
    public static ILocksmithBuilder AddSpinGate(this ILocksmithBuilder builder, string name, int? level = null) =>
        builder.Register(name, _ => new SpinGate(name, level),
            static l => new LockState(l.IsHeld, l.OwnerThreadId));

    // The parameterless striped constructors' count, which the runtime does not expose apart from a lock made with it
    // (AsyncStripedDefaultCountTests and StripedDefaultCountTests compare them).
    private static int DefaultStripeCount => Math.Max(64, 4 * Environment.ProcessorCount);

    // Checked at registration, not when the container first creates the lock (the first request that resolves it),
    // and named, as the runtime's own exceptions cannot be.
    private static ILocksmithBuilder CheckStripeCount(ILocksmithBuilder builder, string name, int stripeCount)
    {
        if (stripeCount is < 1 or > 65_536)
        {
            throw new ArgumentOutOfRangeException(nameof(stripeCount), stripeCount,
                $"Striped lock '{name}' cannot have {stripeCount} stripes: give 1 to 65,536 (rounded up to a power of two; 64 suits most apps).");
        }

        return builder;
    }

    private static ILocksmithBuilder CheckPermits(ILocksmithBuilder builder, string name, int initialCount, int maxCount)
    {
        if (maxCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxCount), maxCount,
                $"Counting semaphore '{name}' cannot have maxCount {maxCount}: give at least 1 (the most permits it holds).");
        }

        if (initialCount < 0 || initialCount > maxCount)
        {
            throw new ArgumentOutOfRangeException(nameof(initialCount), initialCount,
                $"Counting semaphore '{name}' cannot start with {initialCount} permits free of maxCount {maxCount}: give an initialCount from 0 to {maxCount}.");
        }

        return builder;
    }
}
