using System;
using System.Collections.Generic;
using System.Runtime.ExceptionServices;

namespace Locksmith.Postgres;

/// <summary>
/// The errors of clean-up steps that must each run whatever the others did (every member's release, every session's
/// return): one step's error must not leave the ones after it undone, nor be dropped. Thrown once all ran: the one error as
/// it was, several as an <see cref="AggregateException"/> in the order they came. Allocates only when two steps failed.
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
