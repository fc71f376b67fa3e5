using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using System.Text;
using System.Text.RegularExpressions;

namespace ChatterConnector.Shell;

/// <summary>
/// Runs pipelines in the shell's runspace: output through Out-Default to stdout, every error
/// record to stderr as it happens, Ctrl+C stops the running pipeline, and the exit code follows
/// `exit N` or whether anything failed.
/// </summary>
internal sealed partial class Session
{
    /// <summary>Exit code after Ctrl+C stopped the script.</summary>
    public const int StoppedExitCode = 130;

    private readonly Runspace _runspace;
    private readonly ShellHost _host;
    private PowerShell? _current;

    public Session(Runspace runspace, ShellHost host)
    {
        _runspace = runspace;
        _host = host;
        Console.CancelKeyPress += OnCancelKeyPress;
    }

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        var running = _current;
        if (running is null) return; // nothing running: let Ctrl+C end the program
        e.Cancel = true;
        try { running.BeginStop(null, null); }
        catch (Exception) { }
    }

    public bool ImportModule(string manifest)
    {
        var result = Run(ps => ps.AddCommand("Import-Module").AddParameter("Name", manifest)
            .AddParameter("Global").AddParameter("ErrorAction", ActionPreference.Stop), outDefault: false);
        if (result.Failed)
        {
            Console.Error.WriteLine($"ChatterConnector.Shell: could not import the module {manifest}.");
            return false;
        }
        return true;
    }

    public int RunCommand(string text)
    {
        var result = Run(ps => ps.AddScript(text));
        return result.ExitCode;
    }

    public int RunFile(string path, IReadOnlyList<string> arguments)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            _host.ShellUI.WriteErrorRecord(new ErrorRecord(new FileNotFoundException($"The script file '{path}' does not exist.", full),
                "ScriptFileNotFound", ErrorCategory.ObjectNotFound, path));
            return 1;
        }

        // `exit N` inside a script file ends the script and sets $LASTEXITCODE; it does not reach the
        // host, so clear $LASTEXITCODE first and read it afterwards.
        SetLastExitCode(null);
        var script = new StringBuilder("& ").Append(Quote(full));
        foreach (var argument in arguments) script.Append(' ').Append(ArgumentText(argument));
        var result = Run(ps => ps.AddScript(script.ToString()));
        if (_host.ExitCode is { } code) return code;
        if (result.Stopped) return StoppedExitCode;
        return GetLastExitCode() ?? result.ExitCode;
    }

    public int RunInteractive()
    {
        var anyFailed = false;
        var buffer = new StringBuilder();
        while (true)
        {
            _host.ShellUI.Write(buffer.Length == 0 ? "PS> " : ">> ");
            var line = _host.ShellUI.ReadLineOrNull();
            if (line is null)
            {
                if (buffer.Length > 0 && RunInteractiveLine(buffer.ToString(), ref anyFailed) is { } code) return code;
                if (!Console.IsInputRedirected) _host.ShellUI.WriteLine();
                return anyFailed ? 1 : 0;
            }
            if (buffer.Length > 0) buffer.Append('\n');
            buffer.Append(line);
            var text = buffer.ToString();
            if (string.IsNullOrWhiteSpace(text)) { buffer.Clear(); continue; }
            if (IsIncomplete(text)) continue;
            buffer.Clear();
            if (RunInteractiveLine(text, ref anyFailed) is { } exitCode) return exitCode;
        }
    }

    /// <summary>Runs one interactive entry; returns an exit code when the entry ran `exit`.</summary>
    private int? RunInteractiveLine(string text, ref bool anyFailed)
    {
        _host.ResetExit();
        var result = Run(ps => ps.AddScript(text));
        if (_host.ExitCode is { } code) return code;
        anyFailed |= result.Failed;
        return null;
    }

    private static bool IsIncomplete(string text)
    {
        Parser.ParseInput(text, out _, out var errors);
        return errors.Length > 0 && errors.All(e => e.IncompleteInput);
    }

    private readonly record struct RunResult(bool Failed, bool Stopped, int ExitCode);

    private RunResult Run(Action<PowerShell> build, bool outDefault = true)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        build(ps);
        if (outDefault) ps.AddCommand("Out-Default");

        var errors = 0;
        ps.Streams.Error.DataAdded += (_, e) =>
        {
            errors++;
            _host.ShellUI.WriteErrorRecord(ps.Streams.Error[e.Index]);
        };

        var terminated = false;
        var stopped = false;
        _current = ps;
        try
        {
            ps.Invoke();
        }
        catch (PipelineStoppedException)
        {
            stopped = true;
        }
        catch (RuntimeException e) when (e.ErrorRecord is not null)
        {
            terminated = true;
            _host.ShellUI.WriteErrorRecord(e.ErrorRecord);
        }
        catch (Exception e)
        {
            terminated = true;
            _host.ShellUI.WriteErrorRecord(new ErrorRecord(e, e.GetType().FullName, ErrorCategory.NotSpecified, null));
        }
        finally
        {
            _current = null;
            _host.ShellUI.ClearProgress();
        }
        if (ps.InvocationStateInfo.State == PSInvocationState.Stopped) stopped = true;
        if (stopped) _host.ShellUI.WriteErrorLine("The pipeline was stopped (Ctrl+C).");

        var failed = terminated || errors > 0;
        var exitCode = _host.ExitCode ?? (stopped ? StoppedExitCode : failed ? 1 : 0);
        return new RunResult(failed || stopped, stopped, exitCode);
    }

    private void SetLastExitCode(int? value) => _runspace.SessionStateProxy.SetVariable("global:LASTEXITCODE", value);

    private int? GetLastExitCode() =>
        _runspace.SessionStateProxy.GetVariable("global:LASTEXITCODE") is { } value
            ? LanguagePrimitives.ConvertTo<int>(value)
            : null;

    private static string Quote(string text) => "'" + text.Replace("'", "''") + "'";

    // -Name and -Name:value stay parameter names, as pwsh -File binds them ($true and $false after the
    // colon stay booleans); anything else is passed as a literal string, which PowerShell converts
    // to the parameter's type.
    [GeneratedRegex(@"^(-[\p{L}_][\p{L}\p{N}_-]*)(:(.*))?$", RegexOptions.Singleline)]
    private static partial Regex ParameterToken();

    private static string ArgumentText(string argument)
    {
        if (argument == "--") return argument; // end of parameters: what follows is positional
        var match = ParameterToken().Match(argument);
        if (!match.Success) return Quote(argument);
        if (!match.Groups[2].Success) return argument;
        var value = match.Groups[3].Value;
        if (value.Length == 0) return match.Groups[1].Value + ":";
        var literal = value.Equals("$true", StringComparison.OrdinalIgnoreCase) || value.Equals("$false", StringComparison.OrdinalIgnoreCase)
            ? value
            : Quote(value);
        return match.Groups[1].Value + ":" + literal;
    }
}
