using System;
using System.Runtime.CompilerServices;

namespace Locksmith.Tests.Messages;

/// <summary>
/// An unnamed lock's generated name says where it was created (member, file and line, from caller-info parameters),
/// so a message about <c>ExclusiveLock#44</c> can be traced to its source; named and declared locks keep their names.
/// </summary>
public sealed class GeneratedNameTests
{
    private const string File = nameof(GeneratedNameTests) + ".cs";

    private readonly ExclusiveLock _fieldLock = new();
    private readonly CountingSemaphore _fieldSemaphore = new(0, 1);

    private static int Line([CallerLineNumber] int line = 0) => line;

    [Fact]
    public void FieldInitializer_NamesTheFieldAndTheLine()
    {
        Assert.Matches($@"^ExclusiveLock#{_fieldLock.Id} \(_fieldLock, {File}:\d+\)$", _fieldLock.Name);
        Assert.Matches($@"^CountingSemaphore#{_fieldSemaphore.Id} \(_fieldSemaphore, {File}:\d+\)$", _fieldSemaphore.Name);
    }

    [Fact]
    public void MethodBody_NamesTheMethodAndTheLine()
    {
        var (exclusive, line) = (new ExclusiveLock(), Line());
        Assert.Equal($"ExclusiveLock#{exclusive.Id} ({nameof(MethodBody_NamesTheMethodAndTheLine)}, {File}:{line})", exclusive.Name);

        var (reentrant, reentrantLine) = (new ReentrantLock(null, 3), Line());
        Assert.Equal($"ReentrantLock#{reentrant.Id} ({nameof(MethodBody_NamesTheMethodAndTheLine)}, {File}:{reentrantLine})", reentrant.Name);

        var (gate, gateLine) = (new SpinGate(level: 4), Line());
        Assert.Equal($"SpinGate#{gate.Id} ({nameof(MethodBody_NamesTheMethodAndTheLine)}, {File}:{gateLine})", gate.Name);

        var (rw, rwLine) = (new ReadWriteLock(ReadWritePolicy.Fair), Line());
        Assert.Equal($"ReadWriteLock#{rw.Id} ({nameof(MethodBody_NamesTheMethodAndTheLine)}, {File}:{rwLine})", rw.Name);
        Assert.Equal(ReadWritePolicy.Fair, rw.Policy);

        // The async read-write lock takes a policy alone too (it needed a name first: new AsyncReadWriteLock(null, null, policy)).
        var (asyncRw, asyncRwLine) = (new AsyncReadWriteLock(ReadWritePolicy.Fair), Line());
        Assert.Equal($"AsyncReadWriteLock#{asyncRw.Id} ({nameof(MethodBody_NamesTheMethodAndTheLine)}, {File}:{asyncRwLine})", asyncRw.Name);
        Assert.Equal(ReadWritePolicy.Fair, asyncRw.Policy);
        Assert.Equal(ReadWritePolicy.ReaderPreferred, new AsyncReadWriteLock(policy: ReadWritePolicy.ReaderPreferred).Policy);

        var (plainRw, plainRwLine) = (new ReadWriteLock(), Line());
        Assert.Equal($"ReadWriteLock#{plainRw.Id} ({nameof(MethodBody_NamesTheMethodAndTheLine)}, {File}:{plainRwLine})", plainRw.Name);

        var (semaphore, semaphoreLine) = (new CountingSemaphore(1, 1), Line());
        Assert.Equal($"CountingSemaphore#{semaphore.Id} ({nameof(MethodBody_NamesTheMethodAndTheLine)}, {File}:{semaphoreLine})", semaphore.Name);
    }

    private sealed class Pool
    {
        public Pool() => Slots = new CountingSemaphore(2, 2);

        public CountingSemaphore Slots { get; }
    }

    [Fact]
    public void ConstructorBody_NamesTheConstructor()
    {
        Assert.Matches($@"^CountingSemaphore#\d+ \(\.ctor, {File}:\d+\)$", new Pool().Slots.Name);
    }

    [Fact]
    public void ExplicitNames_AreKeptAsGiven()
    {
        Assert.Equal("orders", new ExclusiveLock("orders", 10).Name);
        Assert.Equal("slots", new CountingSemaphore(1, 1, "slots").Name);
        Assert.Equal("prices", new ReadWriteLock("prices", null, ReadWritePolicy.ReaderPreferred).Name);
        Assert.Equal("re", new ReentrantLock("re").Name);
        Assert.Equal("spin", new SpinGate("spin", 2).Name);
    }

    [Fact]
    public void GeneratedName_GivesWayToTheDeclaredMember()
    {
        var gate = new ExclusiveLock();
        gate.EnsureDeclared("Pool._gate", null);
        Assert.Equal("Pool._gate", gate.Name);
    }

    private static T Create<T>()
        where T : new() => new();

    [Fact]
    public void ParameterlessConstructor_StaysForNewConstraintAndReflection()
    {
        var viaConstraint = Create<ExclusiveLock>();
        Assert.Equal($"ExclusiveLock#{viaConstraint.Id}", viaConstraint.Name);

        var viaReflection = Activator.CreateInstance<ReadWriteLock>();
        Assert.Equal($"ReadWriteLock#{viaReflection.Id}", viaReflection.Name);

        var gate = Create<SpinGate>();
        Assert.Equal($"SpinGate#{gate.Id}", gate.Name);
    }

    [Fact]
    public void GenericTypeName_HasNoArity()
    {
        var striped = new StripedLock<int>(4);
        Assert.Equal($"StripedLock#{striped.Id}", striped.Name);
    }

    [Fact]
    public void TimeoutMessage_NamesWhereTheLockWasCreated()
    {
        var ex = Assert.Throws<LockTimeoutException>(() => _fieldSemaphore.Acquire(TimeSpan.Zero));
        Assert.Contains($"(_fieldSemaphore, {File}:", ex.Message);
        Assert.Equal(_fieldSemaphore.Name, ex.LockName);
    }

    [Fact]
    public void WindowsStylePath_KeepsOnlyTheFileName()
    {
        var gate = new ExclusiveLock(null, null, "Build", @"C:\src\Shop\Orders\OrderBook.cs", 42);
        Assert.Equal($"ExclusiveLock#{gate.Id} (Build, OrderBook.cs:42)", gate.Name);

        var bare = new ExclusiveLock(null, null, string.Empty, string.Empty, 0);
        Assert.Equal($"ExclusiveLock#{bare.Id}", bare.Name);
    }
}
