namespace Locksmith;

/// <summary>The accessibility of a wrapper the source generator writes for a guarded method.</summary>
public enum WrapperVisibility
{
    /// <summary><c>public</c>, the default.</summary>
    Public = 0,

    /// <summary><c>internal</c>.</summary>
    Internal = 1,

    /// <summary><c>protected</c>.</summary>
    Protected = 2,

    /// <summary><c>protected internal</c>.</summary>
    ProtectedInternal = 3,

    /// <summary><c>private</c>.</summary>
    Private = 4,

    /// <summary><c>private protected</c>.</summary>
    PrivateProtected = 5,
}
