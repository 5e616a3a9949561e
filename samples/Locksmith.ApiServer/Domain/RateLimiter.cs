using System;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Locksmith.ApiServer;

/// <summary>
/// A token bucket under the <c>limiter</c> lock: <see cref="ApiServerOptions.RateLimitCapacity"/> tokens, refilled at
/// <see cref="ApiServerOptions.RateLimitPerSecond"/>; a request takes one or is refused (429), a HEAD only looks. Without the lock two
/// requests could take the last token.
/// </summary>
public sealed partial class RateLimiter
{
    [LockOrder(ApiServerLocks.LimiterLevel)]
    private readonly ExclusiveLock _lock;

    private readonly TimeProvider _time;
    private readonly double _capacity;
    private readonly double _perSecond;

    [Guarded(Lock = nameof(_lock))]
    private double _tokens;

    [Guarded(Lock = nameof(_lock))]
    private long _stamp;

    [Guarded(Lock = nameof(_lock))]
    private long _allowed;

    [Guarded(Lock = nameof(_lock))]
    private long _refused;

    /// <summary>A full bucket.</summary>
    public RateLimiter([FromKeyedServices(ApiServerLocks.Limiter)] ExclusiveLock limiterLock, IOptions<ApiServerOptions> options, TimeProvider? time = null)
    {
        _lock = limiterLock;
        _time = time ?? TimeProvider.System;
        _capacity = options.Value.RateLimitCapacity;
        _perSecond = options.Value.RateLimitPerSecond;
        _tokens = _capacity;
        _stamp = _time.GetTimestamp();
    }

    /// <summary>Whole seconds until a token comes back into an empty bucket (a 429's Retry-After).</summary>
    public int SecondsPerToken => (int)Math.Ceiling(1 / _perSecond);

    [Guarded(Lock = nameof(_lock), WrapperName = "TryTake")]
    private bool TakeToken()
    {
        long now = _time.GetTimestamp();
        _tokens = Refilled(_tokens, _stamp, now);
        _stamp = now;
        if (_tokens >= 1)
        {
            _tokens -= 1;
            _allowed++;
            return true;
        }

        _refused++;
        return false;
    }

    // A HEAD's answer: whether TryTake would succeed now, changing nothing (a probe must not spend a client's token
    // nor count as allowed or refused).
    [Guarded(Lock = nameof(_lock), WrapperName = "HasToken")]
    private bool PeekToken() => Refilled(_tokens, _stamp, _time.GetTimestamp()) >= 1;

    // The bucket's tokens at now, refilled since stamp; the callers hold the lock and pass its fields.
    private double Refilled(double tokens, long stamp, long now) =>
        Math.Min(_capacity, tokens + (_time.GetElapsedTime(stamp, now).TotalSeconds * _perSecond));

    [Guarded(Lock = nameof(_lock), WrapperName = "Counts")]
    private (long Allowed, long Refused) ReadCounts() => (_allowed, _refused);

    [Guarded(Lock = nameof(_lock))]
    private void ResetCore()
    {
        _tokens = _capacity;
        _stamp = _time.GetTimestamp();
        _allowed = 0;
        _refused = 0;
    }
}
