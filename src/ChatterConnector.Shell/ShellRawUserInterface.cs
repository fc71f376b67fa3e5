using System.Management.Automation.Host;

namespace ChatterConnector.Shell;

/// <summary>
/// The raw console surface. Only the sizes matter to the formatter (Out-Default fits tables to
/// BufferSize.Width); everything else is a best effort over System.Console, and never throws when
/// the console is redirected.
/// </summary>
internal sealed class ShellRawUserInterface : PSHostRawUserInterface
{
    private const int RedirectedWidth = 120;
    private ConsoleColor _foreground = ConsoleColor.Gray;
    private ConsoleColor _background = ConsoleColor.Black;

    /// <summary>Width used by the formatter: the terminal's when stdout is one, otherwise $COLUMNS or 120.</summary>
    [ThreadStatic] private static int t_widthOverride;

    /// <summary>Makes the formatter use <paramref name="width"/> on this thread until disposed (Out-String -Width).</summary>
    public static IDisposable OverrideWidth(int width)
    {
        var previous = t_widthOverride;
        t_widthOverride = width;
        return new Restore(() => t_widthOverride = previous);
    }

    private sealed class Restore(Action action) : IDisposable
    {
        private Action? _action = action;
        public void Dispose() { _action?.Invoke(); _action = null; }
    }

    public static int OutputWidth
    {
        get
        {
            if (t_widthOverride > 0) return t_widthOverride;
            if (!Console.IsOutputRedirected)
            {
                try
                {
                    var w = Console.WindowWidth;
                    if (w > 0) return w;
                }
                catch (IOException) { }
                catch (PlatformNotSupportedException) { }
            }
            return int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var c) && c > 20 ? c : RedirectedWidth;
        }
    }

    public override ConsoleColor BackgroundColor { get => _background; set => _background = value; }
    public override ConsoleColor ForegroundColor { get => _foreground; set => _foreground = value; }

    public override Size BufferSize
    {
        get => new(OutputWidth, 9999);
        set { }
    }

    public override Coordinates CursorPosition
    {
        get
        {
            try { return Console.IsOutputRedirected ? new(0, 0) : new(Console.CursorLeft, Console.CursorTop); }
            catch (Exception) { return new(0, 0); }
        }
        set
        {
            try { if (!Console.IsOutputRedirected) Console.SetCursorPosition(value.X, value.Y); }
            catch (Exception) { }
        }
    }

    public override int CursorSize { get => 25; set { } }
    public override bool KeyAvailable
    {
        get
        {
            try { return !Console.IsInputRedirected && Console.KeyAvailable; }
            catch (Exception) { return false; }
        }
    }

    public override Size MaxPhysicalWindowSize => new(OutputWidth, 9999);
    public override Size MaxWindowSize => new(OutputWidth, 9999);
    public override Coordinates WindowPosition { get => new(0, 0); set { } }
    public override Size WindowSize
    {
        get
        {
            var height = 50;
            try { if (!Console.IsOutputRedirected) height = Math.Max(1, Console.WindowHeight); }
            catch (Exception) { }
            return new(OutputWidth, height);
        }
        set { }
    }

    public override string WindowTitle { get; set; } = "ChatterConnector.Shell";

    public override void FlushInputBuffer() { }

    public override BufferCell[,] GetBufferContents(Rectangle rectangle) =>
        throw new NotSupportedException("GetBufferContents is not supported by ChatterConnector.Shell.");

    public override KeyInfo ReadKey(ReadKeyOptions options)
    {
        if (Console.IsInputRedirected)
        {
            var ch = Console.In.Read();
            if (ch < 0) throw new EndOfStreamException("Standard input is closed.");
            return new KeyInfo(0, (char)ch, ControlKeyStates.NumLockOn, true);
        }
        var key = Console.ReadKey((options & ReadKeyOptions.NoEcho) != 0);
        return new KeyInfo((int)key.Key, key.KeyChar, ControlKeyStates.NumLockOn, true);
    }

    public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) =>
        throw new NotSupportedException("ScrollBufferContents is not supported by ChatterConnector.Shell.");

    public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) =>
        throw new NotSupportedException("SetBufferContents is not supported by ChatterConnector.Shell.");

    public override void SetBufferContents(Rectangle rectangle, BufferCell fill)
    {
        // Clear-Host calls this with a rectangle of -1s: clear the screen when there is one.
        try { if (!Console.IsOutputRedirected) Console.Clear(); }
        catch (Exception) { }
    }
}
