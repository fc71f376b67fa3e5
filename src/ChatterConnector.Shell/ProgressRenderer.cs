using System.Diagnostics;
using System.Management.Automation;

namespace ChatterConnector.Shell;

/// <summary>
/// Renders Write-Progress to stderr. On a terminal it keeps one line that it rewrites in place
/// ("[Activity] Status 42%"), and clears it before anything else is written to the console; when
/// stderr is redirected it writes plain lines, at most one per second per activity. stdout is
/// never touched, so redirected output stays clean.
/// </summary>
internal sealed class ProgressRenderer
{
    private readonly object _lock;
    private readonly bool _terminal;
    private readonly Dictionary<(long, int), long> _lastPlainWrite = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _shownLength;

    public ProgressRenderer(object consoleLock)
    {
        _lock = consoleLock;
        _terminal = !Console.IsErrorRedirected;
    }

    public void Write(long sourceId, ProgressRecord record)
    {
        lock (_lock)
        {
            var key = (sourceId, record.ActivityId);
            if (record.RecordType == ProgressRecordType.Completed)
            {
                _lastPlainWrite.Remove(key);
                if (_terminal) ClearLine();
                return;
            }

            var text = Format(record);
            if (_terminal)
            {
                var width = Math.Max(10, ShellRawUserInterface.OutputWidth - 1);
                if (text.Length > width) text = text[..width];
                ClearLine();
                Console.Error.Write(text);
                Console.Error.Flush();
                _shownLength = text.Length;
            }
            else
            {
                var now = _clock.ElapsedMilliseconds;
                if (_lastPlainWrite.TryGetValue(key, out var last) && now - last < 1000) return;
                _lastPlainWrite[key] = now;
                Console.Error.WriteLine(text);
                Console.Error.Flush();
            }
        }
    }

    /// <summary>Removes the progress line, if one is shown; call with the console lock held.</summary>
    public void ClearLine()
    {
        if (!_terminal || _shownLength == 0) return;
        Console.Error.Write("\r" + new string(' ', _shownLength) + "\r");
        Console.Error.Flush();
        _shownLength = 0;
    }

    internal static string Format(ProgressRecord record)
    {
        var parts = new List<string> { $"[{record.Activity}]" };
        if (!string.IsNullOrWhiteSpace(record.StatusDescription)) parts.Add(record.StatusDescription);
        if (!string.IsNullOrWhiteSpace(record.CurrentOperation)) parts.Add(record.CurrentOperation);
        if (record.PercentComplete >= 0) parts.Add($"{Math.Min(100, record.PercentComplete)}%");
        if (record.SecondsRemaining >= 0) parts.Add($"({TimeSpan.FromSeconds(record.SecondsRemaining):c} left)");
        return string.Join(" ", parts).Replace('\r', ' ').Replace('\n', ' ');
    }
}
