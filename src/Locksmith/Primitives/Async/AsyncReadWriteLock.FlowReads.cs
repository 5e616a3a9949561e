using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

public sealed partial class AsyncReadWriteLock
{
    /// <summary>
    /// The read holds of one async flow (a field of its <see cref="LockOwner"/>), so a flow can be told it already reads
    /// a lock, and a read scope released twice is caught instead of releasing another reader's hold.
    /// </summary>
    /// <remarks>
    /// Most flows read one lock at a time: that hold lives in one inline slot, claimed with a compare-and-swap and
    /// released with another, so it allocates nothing. A read that just claimed the flow's record takes the slot with a
    /// plain store and carries the token the claim put in the record's hold word, so its release checks the token and
    /// counts the hold out in the same compare-and-swap (<see cref="FlowOwnership.TakeBackFirstRead"/>). A flow reading
    /// several locks at once (or tasks of one flow reading different locks at once) keeps the others in a small list,
    /// allocated once per flow record. Inline tokens count up from 1 (the hold word is tried first, then the slot's
    /// token) and list tokens down from -1, so a stale token never matches.
    /// </remarks>
    internal struct FlowReadHolds
    {
        private long _firstId;
        private int _firstToken;

        // The lock of the inline hold, which a read scope (carrying this record, not the lock) releases through: set by
        // the flow that took the slot, after its swap of _firstId. Kept after the release, so a flow reading the same lock
        // again skips the store and its GC write barrier (the record keeps that one lock reachable until it reads another).
        private AsyncReadWriteLock? _firstLock;

        // Written only by the flow that owns the inline slot (it won the slot's compare-and-swap) or by a new claim,
        // which nothing shares yet, so a plain increment is enough.
        private int _firstSerial;
        private int _moreSerial;
        private int _moreCount;
        private MoreHolds? _more;
        private int _slotShift;

        /// <summary>
        /// The reader slot <paramref name="flow"/> (whose field this is) counts itself in: its id, so flow records made
        /// one after another start apart, shifted when it found its slot shared (a hint: a race only makes two flows
        /// share a slot).
        /// </summary>
        public readonly int SlotOf(LockOwner flow) => (flow.OwnerId + _slotShift) & ReaderSlot.IndexMask;

        /// <summary>Moves the flow to another slot after it found one shared.</summary>
        public void MoveSlot() => _slotShift = _slotShift + 1 + Random.Shared.Next(ReaderSlot.IndexMask);

        /// <summary>Whether the flow may hold a read of <paramref name="lockPrimitive"/>: false is certain, true sends the caller to <see cref="Holds"/>.</summary>
        public bool MayHold(AsyncReadWriteLock lockPrimitive) =>
            Volatile.Read(ref _firstId) == lockPrimitive._readHoldId || Volatile.Read(ref _moreCount) != 0;

        /// <summary>Whether the flow holds a read of <paramref name="lockPrimitive"/> (a snapshot).</summary>
        public bool Holds(AsyncReadWriteLock lockPrimitive)
        {
            if (Volatile.Read(ref _firstId) == lockPrimitive._readHoldId)
            {
                return true;
            }

            if (Volatile.Read(ref _moreCount) == 0 || Volatile.Read(ref _more) is not { } more)
            {
                return false;
            }

            using (GateEntry.Enter(more.Gate))
            {
                foreach (var hold in more.Items)
                {
                    if (ReferenceEquals(hold.Lock, lockPrimitive))
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        /// <summary>Records a read hold of <paramref name="lockPrimitive"/>; returns the token its scope carries.</summary>
        /// <param name="lockPrimitive">The lock read.</param>
        /// <param name="asker">
        /// The flow whose own acquisition this is, counted in <paramref name="slot"/>; null for a hold nothing can race
        /// (see <see cref="AddClaimed"/>). An asker finds out here if a task of the same flow recorded a read of the lock
        /// since the asker checked (both passed the check at once): it backs out and gets the
        /// <see cref="LockRecursionException"/> it would have got a moment later (see <see cref="TryAdd"/>).
        /// </param>
        /// <param name="slot">The reader slot the asker counted itself in.</param>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Add(AsyncReadWriteLock lockPrimitive, LockOwner? asker = null, int slot = 0)
        {
            int token = TryAdd(lockPrimitive, checkSiblings: asker is not null);
            if (token == 0)
            {
                lockPrimitive.RejectSiblingRead(asker!, slot);
            }

            return token;
        }

        /// <summary>
        /// Records a read hold of <paramref name="lockPrimitive"/> and returns its token, or, when
        /// <paramref name="checkSiblings"/> and a task of the same flow recorded a read of the lock meanwhile, records
        /// nothing and returns 0 (no token is 0).
        /// </summary>
        /// <remarks>
        /// Two tasks of one flow may record the same lock at once, one inline and one in the list (the inline slot held
        /// another lock when the listing one looked, and was freed before the other one swapped). Each side publishes its
        /// hold with a full fence and then looks at the other side (Dekker): the inline one, after its swap, reads the
        /// list's count, and the listing one, after adding its hold, reads the inline slot, so at least one sees the
        /// other. Who backs out is decided under the list's gate: a listing hold that sees the lock inline takes itself
        /// out again before the gate is left, so an inline hold that then looks in the list finds it only when the
        /// listing one kept it, and backs out itself. The fast path (the inline swap) reads one more field: the count.
        /// </remarks>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int TryAdd(AsyncReadWriteLock lockPrimitive, bool checkSiblings)
        {
            if (Interlocked.CompareExchange(ref _firstId, lockPrimitive._readHoldId, 0) == 0)
            {
                // The swap is a full fence: a sibling's listed hold published before it is seen in the count.
                if (checkSiblings && Volatile.Read(ref _moreCount) != 0 && Listed(lockPrimitive))
                {
                    Volatile.Write(ref _firstId, 0);
                    return 0;
                }

                SetFirstLock(lockPrimitive);
                return TakeFirst();
            }

            return AddMore(lockPrimitive, checkSiblings);
        }

        /// <summary>
        /// <see cref="Add"/> for the first hold of <paramref name="flow"/> (whose field this is) when the acquisition just
        /// claimed it: the inline slot is taken with a plain store, and the hold carries the token the claim put in the
        /// record's hold word.
        /// </summary>
        public int AddClaimed(LockOwner flow, AsyncReadWriteLock lockPrimitive)
        {
            if (_firstId != 0)
            {
                return Add(lockPrimitive);
            }

            SetFirstLock(lockPrimitive);
            Volatile.Write(ref _firstId, lockPrimitive._readHoldId);
            return FlowOwnership.FirstReadToken(flow);
        }

        private int TakeFirst()
        {
            int token = NextFirstToken();
            Volatile.Write(ref _firstToken, token);
            return token;
        }

        /// <summary>A new inline token (a claim takes one for its first read, see <see cref="AddClaimed"/>).</summary>
        public int NextFirstToken()
        {
            int token = _firstSerial + 1;
            token = token > 0 ? token : 1;
            _firstSerial = token;
            return token;
        }

        /// <summary>
        /// Forgets the hold <paramref name="token"/> names, of <paramref name="flow"/> (whose field this is), and finds its
        /// lock: whether it was held (false when released already), and whether that also ended the flow's claim.
        /// </summary>
        /// <param name="flow">The record whose field this is.</param>
        /// <param name="token">The scope's token.</param>
        /// <param name="readTag">The scope's read tag, which names the lock (see <see cref="ReadTag"/>).</param>
        /// <param name="lockPrimitive">The lock the hold was of; when not held, the lock the tag names if it is one of the flow's reads, else null.</param>
        public ReadRemoval Remove(LockOwner flow, int token, int readTag, out AsyncReadWriteLock? lockPrimitive)
        {
            if (token <= 0)
            {
                return RemoveMore(token, readTag, out lockPrimitive) ? ReadRemoval.Removed : ReadRemoval.NotHeld;
            }

            // Read before the token is taken back: once it is, a task of the flow may take the slot for another lock.
            // A scope holding the token was handed out after its take set the lock, and the slot is freed only by the
            // swap of that token, so a winning swap below means the lock read here was the hold's. A free slot keeps
            // its last lock: a stale scope of it is told about that lock.
            var first = Volatile.Read(ref _firstLock);
            if (first is null || !first.IsNamedBy(readTag) || Volatile.Read(ref _firstId) != first._readHoldId)
            {
                lockPrimitive = null;
                return ReadRemoval.NotHeld;
            }

            lockPrimitive = first;
            if (FlowOwnership.TakeBackFirstRead(flow, token, out bool claimEnded))
            {
                FreeFirst();
                return claimEnded ? ReadRemoval.RemovedAndClaimEnded : ReadRemoval.Removed;
            }

            if (Interlocked.CompareExchange(ref _firstToken, 0, token) == token)
            {
                FreeFirst();
                return ReadRemoval.Removed;
            }

            return ReadRemoval.NotHeld;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void SetFirstLock(AsyncReadWriteLock lockPrimitive)
        {
            if (!ReferenceEquals(_firstLock, lockPrimitive))
            {
                _firstLock = lockPrimitive;
            }
        }

        private void FreeFirst() => Volatile.Write(ref _firstId, 0);

        private int AddMore(AsyncReadWriteLock lockPrimitive, bool checkSiblings)
        {
            var more = Volatile.Read(ref _more);
            if (more is null)
            {
                Interlocked.CompareExchange(ref _more, new MoreHolds(), null);
                more = _more!;
            }

            using (GateEntry.Enter(more.Gate))
            {
                // Under the gate every listed hold is seen.
                if (checkSiblings && ListedLocked(lockPrimitive, more))
                {
                    return 0;
                }

                int token = _moreSerial - 1;
                token = token < 0 ? token : -1;
                _moreSerial = token;
                var items = more.Items;
                items.Add((lockPrimitive, token));

                // Published with a full fence before the inline slot is read: a sibling that swapped the lock into the
                // slot meanwhile either is seen here or sees this hold in the count (see TryAdd).
                Interlocked.Exchange(ref _moreCount, items.Count);
                if (checkSiblings && Volatile.Read(ref _firstId) == lockPrimitive._readHoldId)
                {
                    // Taken out before the gate is left, so the inline sibling, looking under the gate, keeps its hold.
                    items.RemoveAt(items.Count - 1);
                    Volatile.Write(ref _moreCount, items.Count);
                    return 0;
                }

                return token;
            }
        }

        /// <summary>Whether a read of <paramref name="lockPrimitive"/> is in the list (looked at under its gate).</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private bool Listed(AsyncReadWriteLock lockPrimitive)
        {
            if (Volatile.Read(ref _more) is not { } more)
            {
                return false;
            }

            using (GateEntry.Enter(more.Gate))
            {
                return ListedLocked(lockPrimitive, more);
            }
        }

        private static bool ListedLocked(AsyncReadWriteLock lockPrimitive, MoreHolds more)
        {
            foreach (var hold in more.Items)
            {
                if (ReferenceEquals(hold.Lock, lockPrimitive))
                {
                    return true;
                }
            }

            return false;
        }

        private bool RemoveMore(int token, int readTag, out AsyncReadWriteLock? lockPrimitive)
        {
            lockPrimitive = null;
            if (Volatile.Read(ref _more) is not { } more)
            {
                return false;
            }

            using (GateEntry.Enter(more.Gate))
            {
                var items = more.Items;
                for (int i = 0; i < items.Count; i++)
                {
                    if (items[i].Token == token && items[i].Lock.IsNamedBy(readTag))
                    {
                        lockPrimitive = items[i].Lock;
                        items.RemoveAt(i);
                        Volatile.Write(ref _moreCount, items.Count);
                        return true;
                    }
                }
            }

            return false;
        }

        /// <summary>What <see cref="Remove"/> found.</summary>
        public enum ReadRemoval
        {
            /// <summary>Not held: the scope was released already.</summary>
            NotHeld,

            /// <summary>Removed; the hold is still counted on the flow (<see cref="FlowOwnership.Released"/> gives it back).</summary>
            Removed,

            /// <summary>Removed, and it was the flow's last hold: counted out already (<see cref="FlowOwnership.ClaimEnded"/> ends the claim).</summary>
            RemovedAndClaimEnded,
        }

        private sealed class MoreHolds
        {
            public readonly Lock Gate = new();
            public readonly List<(AsyncReadWriteLock Lock, int Token)> Items = new(2);
        }
    }
}
