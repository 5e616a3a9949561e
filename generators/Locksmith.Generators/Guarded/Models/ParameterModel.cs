namespace Locksmith.Generators.Guarded.Models;

/// <summary>A parameter of a guarded method, carried to its wrappers as text.</summary>
/// <param name="Name">The name, escaped when it is a keyword.</param>
/// <param name="Type">The fully qualified type with nullable annotations.</param>
/// <param name="Modifiers">Modifiers before the type (<c>this </c>, <c>scoped </c>, <c>ref </c>, <c>out </c>, <c>in </c>, <c>ref readonly </c>).</param>
/// <param name="ArgumentPrefix">
/// What the call passes before the name: <c>ref </c>, <c>out </c>, <c>in </c>, a cast to <c>object</c> for a
/// <c>dynamic</c> value (so the call is bound at compile time), or nothing.
/// </param>
/// <param name="IsOut">Whether the parameter is <c>out</c> (a failed timed form must still assign it).</param>
/// <param name="IsParams">Whether the parameter is a <c>params</c> collection.</param>
/// <param name="DefaultValue">The default value as C# text, or null.</param>
/// <param name="Attributes">Attributes the throwing wrapper carries (nullable-analysis and caller-info), as C# text, or empty.</param>
/// <param name="TimedAttributes">
/// Attributes of the timed form, whose <c>bool</c> means "the lock was taken": nullable-flow attributes rewritten
/// for that meaning, caller-info attributes dropped (the timed form has no defaults), as C# text, or empty. For an
/// async body: the throwing wrapper's attributes without the post-conditions (<c>NotNull</c>, <c>MaybeNull</c>,
/// <c>…When</c>, <c>NotNullIfNotNull</c>), which the timed form's early return, when the lock was not taken, cannot keep.
/// </param>
internal sealed record ParameterModel(
    string Name,
    string Type,
    string Modifiers,
    string ArgumentPrefix,
    bool IsOut,
    bool IsParams,
    string? DefaultValue,
    string Attributes,
    string TimedAttributes);
