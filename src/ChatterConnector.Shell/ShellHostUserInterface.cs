using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;
using System.Text;

namespace ChatterConnector.Shell;

/// <summary>
/// The host's user interface: pipeline output, Write-Host and Write-Information go to stdout;
/// errors, warnings, verbose, debug and progress go to stderr; Read-Host and prompts read stdin.
/// </summary>
internal sealed class ShellHostUserInterface : PSHostUserInterface, IHostUISupportsMultipleChoiceSelection
{
    private readonly object _consoleLock = new();
    private readonly ShellRawUserInterface _raw = new();
    private readonly ProgressRenderer _progress;
    private readonly bool _colors = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;
    private readonly bool _errorColors = !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;

    // Out-String redirects what the formatter writes into a buffer (on the pipeline thread).
    [ThreadStatic] private static Stack<StringBuilder>? t_captures;

    public ShellHostUserInterface()
    {
        _progress = new ProgressRenderer(_consoleLock);
    }

    /// <summary>Set by -NonInteractive: Read-Host and prompts then fail instead of reading stdin.</summary>
    public bool NonInteractive { get; set; }

    public override PSHostRawUserInterface RawUI => _raw;

    /// <summary>True when stdout is a terminal: $PSStyle's "Host" rendering then keeps ANSI escapes.</summary>
    public override bool SupportsVirtualTerminal => !Console.IsOutputRedirected;

    /// <summary>Sends what the host would write to stdout into <paramref name="buffer"/> until disposed.</summary>
    public static IDisposable Capture(StringBuilder buffer)
    {
        (t_captures ??= new Stack<StringBuilder>()).Push(buffer);
        return new CaptureScope();
    }

    private sealed class CaptureScope : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            t_captures?.Pop();
        }
    }

    // ---- stdout -------------------------------------------------------------------------------

    private void Out(string value, ConsoleColor? foreground = null, ConsoleColor? background = null)
    {
        if (t_captures is { Count: > 0 } captures)
        {
            captures.Peek().Append(value);
            return;
        }
        // Strips ANSI escapes (e.g. the bold table headers) when stdout is not a terminal.
        value = GetOutputString(value, SupportsVirtualTerminal);
        lock (_consoleLock)
        {
            _progress.ClearLine();
            if (_colors && (foreground.HasValue || background.HasValue))
            {
                var (fg, bg) = (Console.ForegroundColor, Console.BackgroundColor);
                try
                {
                    if (foreground.HasValue) Console.ForegroundColor = foreground.Value;
                    if (background.HasValue) Console.BackgroundColor = background.Value;
                    // Keep the line break outside the colored span so the background does not bleed.
                    var trimmed = value.TrimEnd('\n');
                    Console.Out.Write(trimmed);
                    Console.Out.Flush();
                    Console.ForegroundColor = fg;
                    Console.BackgroundColor = bg;
                    Console.Out.Write(value[trimmed.Length..]);
                }
                finally
                {
                    Console.ResetColor();
                }
            }
            else
            {
                Console.Out.Write(value);
            }
            Console.Out.Flush();
        }
    }

    public override void Write(string value) => Out(value);

    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) =>
        Out(value, foregroundColor, backgroundColor);

    public override void WriteLine(string value) => Out(value + "\n");

    public override void WriteLine() => Out("\n");

    public override void WriteLine(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) =>
        Out(value + "\n", foregroundColor, backgroundColor);

    // ---- stderr -------------------------------------------------------------------------------

    private void Err(string text, ConsoleColor color)
    {
        text = GetOutputString(text, !Console.IsErrorRedirected);
        lock (_consoleLock)
        {
            _progress.ClearLine();
            if (_errorColors)
            {
                Console.ForegroundColor = color;
                Console.Error.Write(text);
                Console.Error.Flush();
                Console.ResetColor();
                Console.Error.WriteLine();
            }
            else
            {
                Console.Error.WriteLine(text);
            }
            Console.Error.Flush();
        }
    }

    public override void WriteErrorLine(string value) => Err(value, ConsoleColor.Red);

    public override void WriteWarningLine(string message) => Err("WARNING: " + message, ConsoleColor.Yellow);

    public override void WriteVerboseLine(string message) => Err("VERBOSE: " + message, ConsoleColor.Yellow);

    public override void WriteDebugLine(string message) => Err("DEBUG: " + message, ConsoleColor.Yellow);

    public override void WriteProgress(long sourceId, ProgressRecord record) => _progress.Write(sourceId, record);

    /// <summary>Removes a progress line left on the terminal (a script that never wrote -Completed).</summary>
    public void ClearProgress()
    {
        lock (_consoleLock) _progress.ClearLine();
    }

    /// <summary>
    /// Writes an error record in the classic view: the message, where it happened, then the
    /// CategoryInfo and FullyQualifiedErrorId lines.
    /// </summary>
    public void WriteErrorRecord(ErrorRecord record)
    {
        var message = record.ErrorDetails?.Message;
        if (string.IsNullOrEmpty(message) && record.Exception is ParseException { Errors.Length: > 0 } parse)
            message = string.Join("\n", parse.Errors.Select(e => e.Message)); // its Message repeats the position
        if (string.IsNullOrEmpty(message)) message = record.Exception?.Message;
        if (string.IsNullOrEmpty(message)) message = record.ToString();

        var text = new StringBuilder();
        var command = record.InvocationInfo?.MyCommand?.Name;
        if (!string.IsNullOrEmpty(command) && record.InvocationInfo?.MyCommand is CmdletInfo or FunctionInfo or ApplicationInfo)
            text.Append(command).Append(" : ");
        text.Append(message);

        var position = record.InvocationInfo;
        var fromStack = StackLocation(record.ScriptStackTrace);
        if (position is not null && position.ScriptLineNumber > 0 && !string.IsNullOrEmpty(position.ScriptName))
        {
            text.Append('\n').Append($"At {position.ScriptName}:{position.ScriptLineNumber} char:{position.OffsetInLine}");
            var line = position.Line?.TrimEnd('\r', '\n');
            if (!string.IsNullOrWhiteSpace(line) && !line.Contains('\n'))
                text.Append('\n').Append("+ ").Append(line.Trim());
        }
        else if (fromStack is not null)
        {
            // Write-Error reports against the script's caller (here, the shell's own `& 'script'`);
            // the stack trace still knows the line of the script.
            text.Append('\n').Append("At ").Append(fromStack);
        }
        else if (position is not null && position.ScriptLineNumber > 0)
        {
            text.Append('\n').Append($"At line:{position.ScriptLineNumber} char:{position.OffsetInLine}");
            var line = position.Line?.TrimEnd('\r', '\n');
            if (!string.IsNullOrWhiteSpace(line) && !line.Contains('\n'))
                text.Append('\n').Append("+ ").Append(line.Trim());
        }
        text.Append('\n').Append("    + CategoryInfo: ").Append(record.CategoryInfo);
        text.Append('\n').Append("    + FullyQualifiedErrorId: ").Append(record.FullyQualifiedErrorId);
        Err(text.ToString(), ConsoleColor.Red);
    }

    /// <summary>"file:line" from the first frame of a script stack trace that names a file.</summary>
    private static string? StackLocation(string? stackTrace)
    {
        if (string.IsNullOrEmpty(stackTrace)) return null;
        var first = stackTrace.Split('\n')[0].Trim();
        var comma = first.IndexOf(", ", StringComparison.Ordinal);
        var colon = first.LastIndexOf(": line ", StringComparison.Ordinal);
        if (comma < 0 || colon < comma) return null;
        var file = first[(comma + 2)..colon];
        if (file.StartsWith('<')) return null;
        return file + ":" + first[(colon + 7)..];
    }

    // ---- stdin --------------------------------------------------------------------------------

    private void EnsureInteractive()
    {
        if (NonInteractive)
            throw new PSInvalidOperationException(
                "ChatterConnector.Shell is in NonInteractive mode. Read and Prompt functionality is not available.");
    }

    /// <summary>Reads one line of stdin; null at end of input.</summary>
    public string? ReadLineOrNull()
    {
        lock (_consoleLock) _progress.ClearLine();
        return Console.In.ReadLine();
    }

    public override string ReadLine()
    {
        EnsureInteractive();
        return ReadLineOrNull() ?? throw new PSInvalidOperationException("Standard input is closed; there is nothing to read.");
    }

    public override SecureString ReadLineAsSecureString()
    {
        EnsureInteractive();
        var secure = new SecureString();
        if (Console.IsInputRedirected)
        {
            foreach (var c in ReadLine()) secure.AppendChar(c);
        }
        else
        {
            while (true)
            {
                var key = Console.ReadKey(intercept: true);
                if (key.Key == ConsoleKey.Enter) break;
                if (key.Key == ConsoleKey.Backspace) { if (secure.Length > 0) secure.RemoveAt(secure.Length - 1); continue; }
                secure.AppendChar(key.KeyChar);
            }
            Out("\n");
        }
        secure.MakeReadOnly();
        return secure;
    }

    public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions)
    {
        EnsureInteractive();
        if (!string.IsNullOrEmpty(caption)) WriteLine(caption);
        if (!string.IsNullOrEmpty(message)) WriteLine(message);
        var result = new Dictionary<string, PSObject>(StringComparer.OrdinalIgnoreCase);
        foreach (var field in descriptions)
        {
            var label = string.IsNullOrEmpty(field.Label) ? field.Name : field.Label.Replace("&", "");
            Write(label + ": ");
            var type = field.ParameterTypeFullName ?? "";
            if (type.EndsWith("SecureString", StringComparison.Ordinal))
                result[field.Name] = PSObject.AsPSObject(ReadLineAsSecureString());
            else if (type.EndsWith("PSCredential", StringComparison.Ordinal))
                throw CredentialNotSupported();
            else
                result[field.Name] = PSObject.AsPSObject(ReadLine());
        }
        return result;
    }

    public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
    {
        var picked = PromptForChoice(caption, message, choices, defaultChoice < 0 ? null : new[] { defaultChoice }, single: true);
        return picked.Count > 0 ? picked[0] : defaultChoice;
    }

    public Collection<int> PromptForChoice(string? caption, string? message, Collection<ChoiceDescription> choices, IEnumerable<int>? defaultChoices) =>
        PromptForChoice(caption, message, choices, defaultChoices, single: false);

    private Collection<int> PromptForChoice(string? caption, string? message, Collection<ChoiceDescription> choices, IEnumerable<int>? defaults, bool single)
    {
        EnsureInteractive();
        var defaultSet = defaults?.ToList() ?? new List<int>();
        if (!string.IsNullOrEmpty(caption)) WriteLine(caption);
        if (!string.IsNullOrEmpty(message)) WriteLine(message);
        var hotkeys = choices.Select(HotKey).ToList();
        var menu = string.Join(" ", choices.Select((c, i) => $"[{hotkeys[i]}] {c.Label.Replace("&", "")}"));
        var suffix = defaultSet.Count > 0 ? $" (default is \"{string.Join(",", defaultSet.Select(i => hotkeys[i]))}\")" : "";
        while (true)
        {
            Write(menu + suffix + ": ");
            var answer = ReadLine().Trim();
            if (answer.Length == 0) return new Collection<int>(defaultSet);
            var picks = new Collection<int>();
            foreach (var token in single ? new[] { answer } : answer.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var index = hotkeys.FindIndex(h => string.Equals(h, token, StringComparison.OrdinalIgnoreCase));
                if (index < 0) index = choices.ToList().FindIndex(c => string.Equals(c.Label.Replace("&", ""), token, StringComparison.OrdinalIgnoreCase));
                if (index >= 0) picks.Add(index);
            }
            if (picks.Count > 0) return picks;
        }
    }

    private static string HotKey(ChoiceDescription choice)
    {
        var label = choice.Label;
        var amp = label.IndexOf('&');
        return amp >= 0 && amp + 1 < label.Length ? label[amp + 1].ToString().ToUpperInvariant() : label.Replace("&", "");
    }

    private static PSNotSupportedException CredentialNotSupported() =>
        new("ChatterConnector.Shell cannot prompt for credentials (PromptForCredential is not supported). " +
            "Pass a PSCredential instead, e.g. [pscredential]::new('user', [System.Net.NetworkCredential]::new('', 'secret').SecurePassword).");

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
        throw CredentialNotSupported();

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
        PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) =>
        throw CredentialNotSupported();
}
