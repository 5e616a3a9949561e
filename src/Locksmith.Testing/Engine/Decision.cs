namespace Locksmith.Testing.Engine;

/// <summary>One choice of the scheduler: the flow that runs next, or the flow whose timed wait it ends.</summary>
internal readonly record struct Decision(int Flow, bool TimeOut);
