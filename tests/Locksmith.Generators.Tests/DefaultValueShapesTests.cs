using System;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Default values a core's parameters may have, as the wrappers repeat them: struct creations, enum casts and flags,
/// constants by name, defaults written as attributes, caller-info parameters, numeric edges. The accepted ones compile
/// with their wrappers (nullable enabled, every warning an error) and the wrappers' defaults are the core's at run time;
/// the ones the compiler rejects get no wrapper, so the user sees the compiler's own error once and nothing else.
/// </summary>
public sealed class DefaultValueShapesTests
{
    private const string Subject = """
        using System;
        using System.Runtime.CompilerServices;
        using System.Runtime.InteropServices;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        namespace N;
        /// <summary>A plain struct.</summary>
        public struct S
        {
            /// <summary>A field.</summary>
            public int A;
        }
        /// <summary>Flags.</summary>
        [Flags]
        public enum E
        {
            /// <summary>None.</summary>
            None = 0,
            /// <summary>A.</summary>
            A = 1,
            /// <summary>B.</summary>
            B = 2,
        }
        /// <summary>A record struct.</summary>
        /// <param name="A">A.</param>
        public readonly record struct R(int A);
        /// <summary>Constants elsewhere.</summary>
        public static class Other
        {
            /// <summary>A constant.</summary>
            public const int Const = 7;
        }
        /// <summary>Cores with defaults.</summary>
        public partial class D
        {
            private const int MaxCount = 5;
            private readonly ExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _async = new();

            [Guarded(Lock = nameof(_lock))]
            private string StructsCore(S a = new(), S b = new S(), S c = default(S), S? d = null, S? e = default(S?), S? f = default, S? g = new S?()) =>
                $"{a.A}{b.A}{c.A}{d.HasValue}{e.HasValue}{f.HasValue}{g.HasValue}";

            [Guarded(Lock = nameof(_lock))]
            private string CreationsCore(int a = new int(), DateTime b = new(), decimal c = new(), int? d = new int(), Guid e = new Guid(), R f = new(), int? g = default(int), E? h = default(E), CancellationToken i = new(),
                nint? j = 5, double? k = 1, decimal? l = 2.5m, char? m = 'x') =>
                $"{a}{b.Ticks}{c}{d}{e}{f.A}{g}{h}{i.CanBeCanceled}{j}{k}{l}{m}";

            [Guarded(Lock = nameof(_lock))]
            private string EnumsCore(E a = (E)3, E b = E.A | E.B, E c = (E)8, E? d = E.B, E? e = null, DayOfWeek f = (DayOfWeek)(-1)) => $"{(int)a}{(int)b}{(int)c}{d}{e}{(int)f}";

            [Guarded(Lock = nameof(_lock))]
            private int ConstsCore(int a = MaxCount, int b = Other.Const, long c = MaxCount * 2, int d = D.MaxCount) => a * 1000 + b * 100 + (int)c * 10 + d;

            [Guarded(Lock = nameof(_lock))]
            private string AttributesCore(
                [Optional, DecimalConstant(2, 0, 0u, 0u, 12345u)] decimal a,
                [Optional, DateTimeConstant(630822816000000000)] DateTime b,
                [Optional, DefaultParameterValue(5)] int c,
                [Optional, DefaultParameterValue("x")] object d,
                [Optional] int e,
                [Optional, DefaultParameterValue(null)] string? f) =>
                FormattableString.Invariant($"{a}|{b.Ticks}|{c}|{d}|{e}|{f is null}");

            [Guarded(Lock = nameof(_lock))]
            private string CallerCore([CallerMemberName] string name = "", [CallerLineNumber] int line = 0) => name + ":" + (line > 0);

            [Guarded(Lock = nameof(_lock))]
            private string ExpressionCore(int value, [CallerArgumentExpression(nameof(value))] string expression = "") => expression;

            [Guarded(Lock = nameof(_async))]
            private Task<string> ExpressionCoreAsync(int value, [CallerArgumentExpression(nameof(value))] string expression = "", [CallerMemberName] string name = "") =>
                Task.FromResult(expression + "@" + name);

            [Guarded(Lock = nameof(_lock))]
            private string GenericCore<T>(T x = default) where T : struct => x.ToString() ?? "";

            [Guarded(Lock = nameof(_lock))]
            private string NumbersCore(
                char a = '\'', double b = double.NaN, float c = float.PositiveInfinity, double d = -0.0, double e = 1e300,
                long f = long.MinValue, ulong g = ulong.MaxValue, short h = (short)-1, float i = -0.0f, double j = double.Epsilon,
                float k = float.MinValue, int l = int.MinValue, char m = '\0', string n = "\u2028\"", sbyte o = sbyte.MinValue,
                decimal p = decimal.MinValue, double q = double.NegativeInfinity, byte r = 255, ushort s = ushort.MaxValue, uint t = uint.MaxValue,
                nint u = -1, decimal v = 0.10m, float w = 1.1f, double x = 0.1) =>
                string.Join("|", (int)a, BitConverter.DoubleToInt64Bits(b), BitConverter.SingleToInt32Bits(c), BitConverter.DoubleToInt64Bits(d),
                    BitConverter.DoubleToInt64Bits(e), f, g, h, BitConverter.SingleToInt32Bits(i), BitConverter.DoubleToInt64Bits(j),
                    BitConverter.SingleToInt32Bits(k), l, (int)m, n, o, p, BitConverter.DoubleToInt64Bits(q), r, s, t, u,
                    v.ToString(System.Globalization.CultureInfo.InvariantCulture), BitConverter.SingleToInt32Bits(w), BitConverter.DoubleToInt64Bits(x));

            [Guarded(Lock = nameof(_async))]
            private Task<string> NumbersCoreAsync(double d = -0.0, S s = new(), E e = (E)3, S? n = null) =>
                Task.FromResult(BitConverter.DoubleToInt64Bits(d) + "|" + s.A + "|" + (int)e + "|" + n.HasValue);

            // The cores are called bare on purpose, single-threaded, to compare their defaults with the wrappers'.
        #pragma warning disable LSM0020
            /// <summary>Each wrapper with its defaults against its core with them, then what caller-info wrappers pass.</summary>
            /// <returns>One line a check.</returns>
            public string Run() => string.Join("\n",
                Structs() == StructsCore(),
                Creations() == CreationsCore(),
                Enums() == EnumsCore(),
                Consts() == ConstsCore(),
                Attributes() == AttributesCore(),
                Generic<int>() == GenericCore<int>(),
                Numbers() == NumbersCore(),
                NumbersAsync().Result == NumbersCoreAsync().Result,
                TryNumbersAsync(TimeSpan.FromSeconds(5)).Result.Result == NumbersCoreAsync().Result,
                Caller(),
                Expression(1 + 2),
                ExpressionAsync(3 * 4).Result,
                TryExpressionAsync(TimeSpan.FromSeconds(5), 5 - 6).Result.Result);
        #pragma warning restore LSM0020
        }
        """;

    [Fact]
    public void Accepted_defaults_compile_with_their_wrappers_and_mean_what_the_core_means()
    {
        var run = GeneratorHarness.RunStrict(Subject);

        Assert.Empty(run.LocksmithDiagnostics);
        Assert.True(GeneratorHarness.CompileProblems(run).Count == 0, Snapshot.Render(GeneratorHarness.CompileProblems(run)) + "\n" + run.GeneratedText);
        using var loaded = LoadedAssembly.Load(run, "default-value-shapes");
        var d = loaded.Create("N.D");
        string[] lines = ((string)d.GetType().GetMethod("Run")!.Invoke(d, null)!).Split('\n');
        Assert.Equal(
            ["True", "True", "True", "True", "True", "True", "True", "True", "True", "Run:True", "1 + 2", "3 * 4@Run", "5 - 6@Run"],
            lines);
    }

    public static TheoryData<string, string, string> RejectedDefaults() => new()
    {
        { "new() for a class", "C x = new()", "CS1736" },
        { "new C() for a class", "C x = new C()", "CS1736" },
        { "new S() for a nullable struct", "S? x = new S()", "CS1770" },
        { "new() for a nullable struct", "S? x = new()", "CS1770" },
        { "default(S) for a nullable struct", "S? x = default(S)", "CS1770" },
        { "new() for a struct with its own parameterless constructor", "P x = new()", "CS1736" },
        { "new S(...) with an initializer", "S x = new S { A = 1 }", "CS1736" },
        { "new S(1) with an argument", "S x = new S(1)", "CS1736" },
        { "new T() for a struct type parameter", "T x = new T()", "CS1736" },
        { "new S() boxed to object", "object x = new S()", "CS1763" },
        { "a user-defined conversion from a constant", "U x = 3", "CS1750" },
        { "a constant boxed to object", "object x = 5", "CS1763" },
        { "a null string for an object", "object? x = (string?)null", "CS1763" },
        { "default(T) for a nullable struct type parameter", "T? x = default(T)", "CS1770" },
        { "default(DateTime) for a nullable DateTime", "System.DateTime? x = default(System.DateTime)", "CS1770" },
        { "a string for an interface it implements", "System.IComparable x = \"s\"", "CS1763" },
    };

    [Theory]
    [MemberData(nameof(RejectedDefaults))]
    public void A_default_the_compiler_rejects_gets_no_wrapper_and_only_the_compilers_error(string shape, string parameter, string error)
    {
        var run = GeneratorHarness.RunStrict($$"""
            using Locksmith;
            namespace N;
            /// <summary>A class.</summary>
            public sealed class C { }
            /// <summary>A struct.</summary>
            public struct S
            {
                /// <summary>A field.</summary>
                public int A;
                /// <summary>A constructor.</summary>
                /// <param name="a">A.</param>
                public S(int a) => A = a;
            }
            /// <summary>A struct with its own parameterless constructor.</summary>
            public struct P
            {
                /// <summary>A constructor.</summary>
                public P() { }
            }
            /// <summary>A struct with a conversion from int.</summary>
            public struct U
            {
                /// <summary>The conversion.</summary>
                /// <param name="x">X.</param>
                public static implicit operator U(int x) => default;
            }
            /// <summary>The core.</summary>
            public partial class K<T> where T : struct
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int TakeCore({{parameter}}) => 1;
            }
            """);

        Assert.Empty(run.LocksmithDiagnostics);
        var problems = GeneratorHarness.CompileProblems(run);
        Assert.True(
            problems.Select(static d => d.Id).SequenceEqual([error]) &&
            problems.All(static d => d.Location.SourceTree!.FilePath.StartsWith("Source", StringComparison.Ordinal)),
            shape + ": the user's error only, once, on the declaration:\n" + Snapshot.Render(problems) + "\n" + run.GeneratedText);
        Assert.Empty(run.Result.GeneratedTrees);
    }
}
