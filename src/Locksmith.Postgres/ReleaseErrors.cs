using System;
using System.Collections.Generic;
using System.Runtime.ExceptionServices;

namespace Locksmith.Postgres;

/// <summary>
/// The errors of clean-up steps that must each run whatever the others did (every member's release, every session's
/// return): one step's error must not leave the ones after it undone, nor be dropped. Thrown once all ran: the one error as
/// it was, several as an <see cref="AggregateException"/> in the order they came; after a failed acquisition, inside its
/// exception (<see cref="ThrowAfter"/>). Allocates only when two steps failed.
/// </summary>
internal struct ReleaseErrors
{
    private Exception? _first;
    private List<Exception>? _all;

    public void Add(Exception error)
    {
        if (_first is null)
        {
            _first = error;
        }
        else
        {
            (_all ??= [_first]).Add(error);
        }
    }

    /// <summary>
    /// A failed acquisition's <paramref name="failure"/>, thrown as its own kind with these clean-up errors inside
    /// (<see cref="PostgresErrors.WithCleanUpErrors"/>), or as it was when none.
    /// </summary>
    public readonly void ThrowAfter(Exception failure)
    {
        if (_first is null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }

        throw PostgresErrors.WithCleanUpErrors(failure, _all is null ? [_first] : _all.ToArray());
    }

    public readonly void ThrowIfAny()
    {
        if (_all is not null)
        {
            throw new AggregateException(_all);
        }

        if (_first is not null)
        {
            ExceptionDispatchInfo.Throw(_first);
        }
    }
}
