using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;
using System.Text;
using Microsoft.PowerShell.Commands;

namespace ChatterConnector.Shell;

// The System.Management.Automation package carries only Microsoft.PowerShell.Core. The cmdlets of
// Microsoft.PowerShell.Utility that scripts cannot do without (Write-*, Read-Host, Out-String,
// Format-Table/List, Start-Sleep) are not on NuGet, so this host supplies small equivalents that
// behave like the originals for the common parameters.

/// <summary>Registers the stand-in cmdlets that the session does not already have.</summary>
internal static class UtilityCommands
{
    private static readonly Type[] s_types =
    {
        typeof(WriteOutputCommand), typeof(WriteHostCommand), typeof(WriteErrorCommand), typeof(WriteWarningCommand),
        typeof(WriteVerboseCommand), typeof(WriteDebugCommand), typeof(WriteInformationCommand),
        typeof(WriteProgressCommand), typeof(ReadHostCommand), typeof(OutStringCommand),
        typeof(FormatTableCommand), typeof(FormatListCommand), typeof(StartSleepCommand),
    };

    public static void AddTo(InitialSessionState iss)
    {
        var existing = new HashSet<string>(iss.Commands.Select(c => c.Name), StringComparer.OrdinalIgnoreCase);
        foreach (var type in s_types)
        {
            var attribute = type.GetCustomAttribute<CmdletAttribute>()!;
            var name = attribute.VerbName + "-" + attribute.NounName;
            if (!existing.Contains(name)) iss.Commands.Add(new SessionStateCmdletEntry(name, type, null));
        }
        if (!existing.Contains("ft")) iss.Commands.Add(new SessionStateAliasEntry("ft", "Format-Table"));
        if (!existing.Contains("fl")) iss.Commands.Add(new SessionStateAliasEntry("fl", "Format-List"));
        if (!existing.Contains("write")) iss.Commands.Add(new SessionStateAliasEntry("write", "Write-Output"));
        if (!existing.Contains("echo")) iss.Commands.Add(new SessionStateAliasEntry("echo", "Write-Output"));
        if (!existing.Contains("sleep")) iss.Commands.Add(new SessionStateAliasEntry("sleep", "Start-Sleep"));
    }

    /// <summary>Joins objects the way Write-Host does: enumerables flattened, items separated.</summary>
    internal static string Join(object? value, object? separator)
    {
        var text = new StringBuilder();
        Append(text, value, separator?.ToString() ?? " ", first: true);
        return text.ToString();
    }

    private static bool Append(StringBuilder text, object? value, string separator, bool first)
    {
        var baseValue = value is PSObject pso ? pso.BaseObject : value;
        if (baseValue is null) return first;
        if (baseValue is not string && baseValue is IEnumerable items)
        {
            foreach (var item in items) first = Append(text, item, separator, first);
            return first;
        }
        if (!first) text.Append(separator);
        text.Append(LanguagePrimitives.ConvertTo<string>(value));
        return false;
    }
}
