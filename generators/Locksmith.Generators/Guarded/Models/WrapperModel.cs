using Locksmith.Generators.Helpers;

namespace Locksmith.Generators.Guarded.Models;

/// <summary>
/// Everything the emitter needs for the wrappers of one guarded method, as strings, flags and equatable arrays:
/// no symbol, syntax node or location, so an unchanged method yields an equal model and its output is cached.
/// </summary>
/// <param name="Type">The type that declares the method.</param>
/// <param name="BodyName">The guarded method, e.g. <c>DepositCore</c>.</param>
/// <param name="WrapperName">The throwing wrapper, e.g. <c>Deposit</c>.</param>
/// <param name="TryWrapperName">The timed wrapper, e.g. <c>TryDeposit</c>.</param>
/// <param name="Accessibility">The wrappers' accessibility keyword(s).</param>
/// <param name="Modifiers">Other modifiers (<c>static </c>, <c>unsafe </c>), or empty.</param>
/// <param name="ReturnType">The return type as C# text; <c>void</c> for none.</param>
/// <param name="TypeParameters">The method's type parameter names.</param>
/// <param name="TypeParameterAttributes">
/// Per type parameter, the attributes its declarations in the wrappers carry (<c>[DynamicallyAccessedMembers]</c>, which
/// the trim analyzer checks on every call passing it on), as C# text with a trailing space, or empty.
/// </param>
/// <param name="ConstraintClauses">The method's <c>where</c> clauses.</param>
/// <param name="Parameters">The method's parameters.</param>
/// <param name="MethodAttributes">Attributes carried to the wrappers (e.g. <c>Obsolete</c>), as C# text.</param>
/// <param name="TimedMethodAttributes">The method attributes of the timed form (nullable-flow ones rewritten), as C# text.</param>
/// <param name="ReturnAttributes">Return attributes carried to the throwing wrapper, as C# text.</param>
/// <param name="ResultAttributes">Attributes of the timed form's <c>out</c> result, as C# text with a trailing space, or empty.</param>
/// <param name="DocLines">The method's XML doc comment lines without the leading <c>///</c>, or empty.</param>
/// <param name="Acquisition">How the wrappers take the lock(s).</param>
/// <param name="SuppressedWarnings">
/// Warnings the body's declaration already carries (or what the wrapper names to take the lock), suppressed around the
/// throwing (or async) wrapper only, since it would repeat them.
/// </param>
/// <param name="TimedSuppressedWarnings">The same for the timed wrapper.</param>
/// <param name="Async">How the async wrappers await, or null for synchronous wrappers.</param>
/// <param name="NullableOblivious">
/// Whether the body is declared where nullable annotations are disabled: its types are oblivious, and its wrappers are
/// written under <c>#nullable disable</c> so that they stay so (a caller may pass null to them as to the body).
/// </param>
/// <param name="DoesNotReturn">
/// Whether the synchronous body is <c>[DoesNotReturn]</c>: the throwing wrapper keeps the attribute, so it must not seem
/// to return either (CS8763); it calls the body and then throws.
/// </param>
internal sealed record WrapperModel(
    TypeModelKey Type,
    string BodyName,
    string WrapperName,
    string TryWrapperName,
    string Accessibility,
    string Modifiers,
    string ReturnType,
    EquatableArray<string> TypeParameters,
    EquatableArray<string> TypeParameterAttributes,
    EquatableArray<string> ConstraintClauses,
    EquatableArray<ParameterModel> Parameters,
    EquatableArray<string> MethodAttributes,
    EquatableArray<string> TimedMethodAttributes,
    EquatableArray<string> ReturnAttributes,
    string ResultAttributes,
    EquatableArray<string> DocLines,
    AcquisitionModel Acquisition,
    EquatableArray<string> SuppressedWarnings,
    EquatableArray<string> TimedSuppressedWarnings,
    AsyncModel? Async,
    bool NullableOblivious,
    bool DoesNotReturn)
{
    public bool ReturnsVoid => ReturnType == "void";
}
