using System.Globalization;
using System.Management.Automation.Host;

namespace ChatterConnector.Shell;

/// <summary>
/// The PSHost that scripts run under. It records `exit N` from the top level of a script
/// (the engine calls <see cref="SetShouldExit"/>) so that the program can exit with that code.
/// </summary>
internal sealed class ShellHost : PSHost
{
    private readonly Guid _id = Guid.NewGuid();
    private readonly ShellHostUserInterface _ui = new();
    private readonly CultureInfo _culture = CultureInfo.CurrentCulture;
    private readonly CultureInfo _uiCulture = CultureInfo.CurrentUICulture;

    public ShellHostUserInterface ShellUI => _ui;

    /// <summary>Set when the script ran `exit` at the top level.</summary>
    public int? ExitCode { get; private set; }

    public void ResetExit() => ExitCode = null;

    public override CultureInfo CurrentCulture => _culture;
    public override CultureInfo CurrentUICulture => _uiCulture;
    public override Guid InstanceId => _id;
    public override string Name => "ChatterConnector.Shell";
    public override PSHostUserInterface UI => _ui;
    public override Version Version => typeof(ShellHost).Assembly.GetName().Version ?? new Version(0, 1);

    public override void EnterNestedPrompt() =>
        throw new NotSupportedException("Nested prompts are not supported by ChatterConnector.Shell.");

    public override void ExitNestedPrompt() =>
        throw new NotSupportedException("Nested prompts are not supported by ChatterConnector.Shell.");

    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }

    public override void SetShouldExit(int exitCode) => ExitCode = exitCode;
}
