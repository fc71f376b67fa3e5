using System.Management.Automation;
using System.Reflection;
using System.Text;
using ChatterConnector.Shell;
using Microsoft.PowerShell.Commands.Internal.Format;

// Stand-ins for cmdlets of Microsoft.PowerShell.Utility (see UtilityCommands.cs), in the namespace of
// the originals so that error ids read as they do in pwsh
// (e.g. Microsoft.PowerShell.Commands.WriteErrorException).
namespace Microsoft.PowerShell.Commands;

[Cmdlet(VerbsCommunications.Write, "Output")]
public sealed class WriteOutputCommand : PSCmdlet
{
    [Parameter(Position = 0, Mandatory = true, ValueFromPipeline = true, ValueFromRemainingArguments = true)]
    [AllowNull, AllowEmptyCollection]
    public PSObject? InputObject { get; set; }

    [Parameter] public SwitchParameter NoEnumerate { get; set; }

    protected override void ProcessRecord() => WriteObject(InputObject, InputObject is not null && !NoEnumerate);
}

[Cmdlet(VerbsCommunications.Write, "Host")]
public sealed class WriteHostCommand : PSCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromRemainingArguments = true)]
    public object? Object { get; set; }

    [Parameter] public SwitchParameter NoNewline { get; set; }
    [Parameter] public object Separator { get; set; } = " ";
    [Parameter] public ConsoleColor? ForegroundColor { get; set; }
    [Parameter] public ConsoleColor? BackgroundColor { get; set; }

    protected override void ProcessRecord()
    {
        var message = new HostInformationMessage
        {
            Message = UtilityCommands.Join(Object, Separator),
            NoNewLine = NoNewline.IsPresent,
        };
        if (ForegroundColor.HasValue) message.ForegroundColor = ForegroundColor.Value;
        if (BackgroundColor.HasValue) message.BackgroundColor = BackgroundColor.Value;
        WriteInformation(message, new[] { "PSHOST" });
    }
}

/// <summary>The exception behind Write-Error messages, named as in Windows PowerShell.</summary>
public sealed class WriteErrorException : SystemException
{
    public WriteErrorException(string message) : base(message) { }
}

[Cmdlet(VerbsCommunications.Write, "Error", DefaultParameterSetName = "NoException")]
public sealed class WriteErrorCommand : PSCmdlet
{
    [Parameter(ParameterSetName = "WithException", Mandatory = true)]
    public Exception? Exception { get; set; }

    [Parameter(Position = 0, ParameterSetName = "NoException", Mandatory = true, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = "WithException")]
    [AllowNull, AllowEmptyString]
    [Alias("Msg")]
    public string? Message { get; set; }

    [Parameter(ParameterSetName = "ErrorRecord", Mandatory = true)]
    public ErrorRecord? ErrorRecord { get; set; }

    [Parameter(ParameterSetName = "NoException")]
    [Parameter(ParameterSetName = "WithException")]
    public ErrorCategory Category { get; set; } = ErrorCategory.NotSpecified;

    [Parameter(ParameterSetName = "NoException")]
    [Parameter(ParameterSetName = "WithException")]
    public string? ErrorId { get; set; }

    [Parameter(ParameterSetName = "NoException")]
    [Parameter(ParameterSetName = "WithException")]
    public object? TargetObject { get; set; }

    [Parameter] public string? RecommendedAction { get; set; }

    protected override void ProcessRecord()
    {
        ErrorRecord record;
        if (ErrorRecord is not null)
        {
            record = new ErrorRecord(ErrorRecord, ErrorRecord.Exception);
        }
        else
        {
            var exception = Exception ?? new WriteErrorException(Message ?? "");
            var id = string.IsNullOrEmpty(ErrorId) ? exception.GetType().FullName! : ErrorId;
            record = new ErrorRecord(exception, id, Category, TargetObject);
            if (Exception is not null && !string.IsNullOrEmpty(Message)) record.ErrorDetails = new ErrorDetails(Message);
        }
        if (!string.IsNullOrEmpty(RecommendedAction))
        {
            record.ErrorDetails ??= new ErrorDetails(record.Exception.Message);
            record.ErrorDetails.RecommendedAction = RecommendedAction;
        }
        // Like Write-Error, report the error against the calling script rather than this cmdlet.
        if (GetVariableValue("MyInvocation") is InvocationInfo caller) ErrorRecordAccess.Attribute(record, caller, "Write-Error");
        WriteError(record);
    }
}

/// <summary>The internal ErrorRecord members the real Write-Error uses, reached by reflection (best effort).</summary>
internal static class ErrorRecordAccess
{
    private const BindingFlags Flags = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;
    private static readonly MethodInfo? s_setInvocationInfo = typeof(ErrorRecord).GetMethod("SetInvocationInfo", Flags, new[] { typeof(InvocationInfo) });
    private static readonly PropertyInfo? s_preserve = typeof(ErrorRecord).GetProperty("PreserveInvocationInfoOnce", Flags);

    public static void Attribute(ErrorRecord record, InvocationInfo invocation, string activity)
    {
        if (s_setInvocationInfo is null || s_preserve is null) return;
        try
        {
            s_setInvocationInfo.Invoke(record, new object[] { invocation });
            s_preserve.SetValue(record, true);
            record.CategoryInfo.Activity = activity;
        }
        catch (Exception) { }
    }
}

[Cmdlet(VerbsCommunications.Write, "Warning")]
public sealed class WriteWarningCommand : PSCmdlet
{
    [Parameter(Position = 0, Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyString, Alias("Msg")]
    public string Message { get; set; } = "";

    protected override void ProcessRecord() => WriteWarning(Message);
}

[Cmdlet(VerbsCommunications.Write, "Verbose")]
public sealed class WriteVerboseCommand : PSCmdlet
{
    [Parameter(Position = 0, Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyString, Alias("Msg")]
    public string Message { get; set; } = "";

    protected override void ProcessRecord() => WriteVerbose(Message);
}

[Cmdlet(VerbsCommunications.Write, "Debug")]
public sealed class WriteDebugCommand : PSCmdlet
{
    [Parameter(Position = 0, Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyString, Alias("Msg")]
    public string Message { get; set; } = "";

    protected override void ProcessRecord() => WriteDebug(Message);
}

[Cmdlet(VerbsCommunications.Write, "Information")]
public sealed class WriteInformationCommand : PSCmdlet
{
    [Parameter(Position = 0, Mandatory = true)]
    [Alias("Msg", "Message")]
    [AllowNull]
    public object? MessageData { get; set; }

    [Parameter(Position = 1)]
    public string[]? Tags { get; set; }

    protected override void BeginProcessing() => WriteInformation(MessageData, Tags ?? Array.Empty<string>());
}

[Cmdlet(VerbsCommunications.Write, "Progress")]
public sealed class WriteProgressCommand : PSCmdlet
{
    [Parameter(Position = 0)] public string? Activity { get; set; }
    [Parameter(Position = 1)] [ValidateNotNullOrEmpty] public string Status { get; set; } = "Processing";
    [Parameter(Position = 2)] [ValidateRange(0, int.MaxValue)] public int Id { get; set; }
    [Parameter] [ValidateRange(-1, 100)] public int PercentComplete { get; set; } = -1;
    [Parameter] public int SecondsRemaining { get; set; } = -1;
    [Parameter] public string? CurrentOperation { get; set; }
    [Parameter] [ValidateRange(-1, int.MaxValue)] public int ParentId { get; set; } = -1;
    [Parameter] public SwitchParameter Completed { get; set; }
    [Parameter] public int SourceId { get; set; }

    protected override void ProcessRecord()
    {
        var activity = string.IsNullOrEmpty(Activity) ? "Processing" : Activity;
        var record = new ProgressRecord(Id, activity, Status)
        {
            ParentActivityId = ParentId,
            PercentComplete = PercentComplete,
            SecondsRemaining = SecondsRemaining,
            CurrentOperation = CurrentOperation,
            RecordType = Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        };
        CommandRuntime.WriteProgress(SourceId, record);
    }
}

[Cmdlet(VerbsCommunications.Read, "Host")]
public sealed class ReadHostCommand : PSCmdlet
{
    [Parameter(Position = 0, ValueFromRemainingArguments = true)]
    [AllowNull]
    public object? Prompt { get; set; }

    [Parameter] public SwitchParameter AsSecureString { get; set; }
    [Parameter] public SwitchParameter MaskInput { get; set; }

    protected override void BeginProcessing()
    {
        var ui = Host.UI;
        if (Prompt is not null) ui.Write(UtilityCommands.Join(Prompt, " ") + ": ");
        if (AsSecureString) { WriteObject(ui.ReadLineAsSecureString()); return; }
        if (MaskInput)
        {
            WriteObject(new System.Net.NetworkCredential("", ui.ReadLineAsSecureString()).Password);
            return;
        }
        WriteObject(ui.ReadLine());
    }
}

[Cmdlet(VerbsLifecycle.Start, "Sleep", DefaultParameterSetName = "Seconds")]
public sealed class StartSleepCommand : PSCmdlet
{
    private readonly ManualResetEventSlim _stopped = new();

    [Parameter(Position = 0, Mandatory = true, ParameterSetName = "Seconds", ValueFromPipeline = true)]
    public double Seconds { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "Milliseconds")]
    [Alias("ms")]
    public int Milliseconds { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "Duration")]
    [Alias("ts")]
    public TimeSpan Duration { get; set; }

    protected override void ProcessRecord()
    {
        var wait = ParameterSetName switch
        {
            "Milliseconds" => TimeSpan.FromMilliseconds(Milliseconds),
            "Duration" => Duration,
            _ => TimeSpan.FromSeconds(Seconds),
        };
        _stopped.Wait(wait);
    }

    protected override void StopProcessing() => _stopped.Set();
}

/// <summary>Out-String: runs Out-Default with the host's output captured into a string.</summary>
[Cmdlet(VerbsData.Out, "String")]
[OutputType(typeof(string))]
public sealed class OutStringCommand : PSCmdlet
{
    private SteppablePipeline? _pipeline;
    private readonly StringBuilder _buffer = new();
    private IDisposable? _width;

    [Parameter(ValueFromPipeline = true)] public PSObject? InputObject { get; set; }
    [Parameter] public SwitchParameter Stream { get; set; }
    [Parameter] [ValidateRange(2, int.MaxValue)] public int Width { get; set; }
    [Parameter] public SwitchParameter NoNewline { get; set; }

    protected override void BeginProcessing()
    {
        if (Width > 0) _width = ShellRawUserInterface.OverrideWidth(Width);
        _pipeline = ScriptBlock.Create("Microsoft.PowerShell.Core\\Out-Default").GetSteppablePipeline();
        using (ShellHostUserInterface.Capture(_buffer)) _pipeline.Begin(this);
    }

    protected override void ProcessRecord()
    {
        if (InputObject is null) return;
        using (ShellHostUserInterface.Capture(_buffer)) _pipeline!.Process(InputObject);
        if (Stream) EmitLines(final: false);
    }

    protected override void EndProcessing()
    {
        try
        {
            using (ShellHostUserInterface.Capture(_buffer)) _pipeline!.End();
        }
        finally
        {
            _width?.Dispose();
            _width = null;
        }
        if (Stream) { EmitLines(final: true); return; }
        var text = _buffer.ToString();
        if (NoNewline) text = text.Replace("\n", "");
        WriteObject(text);
    }

    private void EmitLines(bool final)
    {
        var text = _buffer.ToString();
        var end = final ? text.Length : text.LastIndexOf('\n') + 1;
        if (end <= 0) return;
        var lines = text[..end].Split('\n');
        var count = text[..end].EndsWith('\n') ? lines.Length - 1 : lines.Length;
        _buffer.Remove(0, end);
        for (var i = 0; i < count; i++) WriteObject(lines[i].TrimEnd('\r'));
    }

    protected override void StopProcessing() => _width?.Dispose();
}

/// <summary>Gives the Core formatting base classes the shape that Utility's Format-* cmdlets give them.</summary>
internal static class FormatShape
{
    private static readonly Assembly s_sma = typeof(PSObject).Assembly;

    public static void Set(FrontEndCommandBase command, string shape)
    {
        var shapeType = s_sma.GetType("Microsoft.PowerShell.Commands.Internal.Format.FormatShape", throwOnError: true)!;
        var innerType = s_sma.GetType("Microsoft.PowerShell.Commands.Internal.Format.InnerFormatShapeCommand", throwOnError: true)!;
        var inner = Activator.CreateInstance(innerType, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public,
            null, new[] { Enum.Parse(shapeType, shape) }, null);
        typeof(FrontEndCommandBase).GetField("implementation", BindingFlags.Instance | BindingFlags.NonPublic)!.SetValue(command, inner);
    }
}

[Cmdlet(VerbsCommon.Format, "Table")]
public sealed class FormatTableCommand : OuterFormatTableBase
{
    public FormatTableCommand() => FormatShape.Set(this, "Table");
}

[Cmdlet(VerbsCommon.Format, "List")]
public sealed class FormatListCommand : OuterFormatTableAndListBase
{
    public FormatListCommand() => FormatShape.Set(this, "List");
}
