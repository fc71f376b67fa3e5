using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace ChatterConnector.Shell;

/// <summary>
/// ChatterConnector.Shell: runs a script, a command, or an interactive prompt in a PowerShell
/// runspace with the ChatterConnector module imported, on machines that have no pwsh.
/// </summary>
internal static class Program
{
    private const string Usage = """
        Usage: ChatterConnector.Shell [options] [-File <script.ps1> [args...] | -Command <text>]

          -File <path> [args...]  Run a script; the remaining arguments are passed to it
                                  (positional values and -Name value pairs, as PowerShell binds them).
          -Command <text>         Run the text as a script (the rest of the line is joined with spaces).
                                  "-Command -" reads the script from stdin.
          (neither)               Interactive prompt: reads lines from stdin ("PS> "), `exit` to quit.
          -ModulePath <psd1>      Import this module manifest instead of the default.
          -NoModule               Do not import the ChatterConnector module.
          -NonInteractive         Read-Host and prompts fail instead of reading stdin.
          -Help                   Show this text.

        The module is <repo>/out/ChatterConnector/ChatterConnector.psd1, where <repo> is the folder
        with ChatterConnector.sln above the current directory or the program; the environment
        variable CHATTERCONNECTOR_MODULE overrides it, and -ModulePath overrides both.

        Exit code: N for `exit N`; otherwise 1 when a terminating error was thrown or any error was
        written, else 0. 2 for a command-line error.
        """;

    private static int Main(string[] args)
    {
        try
        {
            return Run(args);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("ChatterConnector.Shell: " + e);
            return 1;
        }
    }

    private static int Run(string[] args)
    {
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine("ChatterConnector.Shell: " + e.Message);
            Console.Error.WriteLine("Run with -Help for usage.");
            return 2;
        }
        if (options.Help)
        {
            Console.Out.WriteLine(Usage);
            return 0;
        }

        string? modulePath = null;
        if (!options.NoModule)
        {
            modulePath = ResolveModule(options.ModulePath, out var problem);
            if (modulePath is null)
            {
                Console.Error.WriteLine("ChatterConnector.Shell: " + problem);
                return 1;
            }
        }

        var host = new ShellHost();
        host.ShellUI.NonInteractive = options.NonInteractive;

        var iss = InitialSessionState.CreateDefault2();
        // Only Windows has execution policies; setting one elsewhere throws PlatformNotSupportedException.
        if (OperatingSystem.IsWindows()) iss.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.Unrestricted;
        UtilityCommands.AddTo(iss);

        using var runspace = RunspaceFactory.CreateRunspace(host, iss);
        runspace.Open();

        // NO_COLOR: no ANSI escapes at all (redirected output is stripped by the host UI anyway).
        if (Environment.GetEnvironmentVariable("NO_COLOR") is not null)
            PSStyle.Instance.OutputRendering = OutputRendering.PlainText;
        var session = new Session(runspace, host);

        if (modulePath is not null && !session.ImportModule(modulePath)) return 1;

        if (options.File is not null) return session.RunFile(options.File, options.Arguments);
        if (options.Command is not null)
        {
            var text = options.Command == "-" ? Console.In.ReadToEnd() : options.Command;
            return session.RunCommand(text);
        }
        return session.RunInteractive();
    }

    /// <summary>Finds the module manifest: -ModulePath, then $CHATTERCONNECTOR_MODULE, then the repository's out/ folder.</summary>
    internal static string? ResolveModule(string? explicitPath, out string problem)
    {
        problem = "";
        var candidate = explicitPath;
        var source = "-ModulePath";
        if (string.IsNullOrEmpty(candidate))
        {
            candidate = Environment.GetEnvironmentVariable("CHATTERCONNECTOR_MODULE");
            source = "CHATTERCONNECTOR_MODULE";
        }
        if (!string.IsNullOrEmpty(candidate))
        {
            var full = Path.GetFullPath(candidate);
            if (File.Exists(full)) return full;
            if (Directory.Exists(full))
            {
                var inFolder = Path.Combine(full, "ChatterConnector.psd1");
                if (File.Exists(inFolder)) return inFolder;
            }
            problem = $"the module manifest given by {source} does not exist: {full}";
            return null;
        }

        var roots = new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory }
            .Select(FindRepositoryRoot).Where(r => r is not null).Distinct().ToList();
        if (roots.Count == 0)
        {
            problem = "cannot find the ChatterConnector module: no folder containing ChatterConnector.sln above " +
                      $"{Directory.GetCurrentDirectory()} or {AppContext.BaseDirectory}. " +
                      "Use -ModulePath <psd1>, set CHATTERCONNECTOR_MODULE, or pass -NoModule.";
            return null;
        }
        foreach (var root in roots)
        {
            var manifest = Path.Combine(root!, "out", "ChatterConnector", "ChatterConnector.psd1");
            if (File.Exists(manifest)) return manifest;
        }
        problem = "the ChatterConnector module has not been built: " +
                  string.Join(" and ", roots.Select(r => Path.Combine(r!, "out", "ChatterConnector", "ChatterConnector.psd1"))) +
                  " does not exist. Build it with `dotnet build src/ChatterConnector`, or use -ModulePath <psd1> or -NoModule.";
        return null;
    }

    private static string? FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ChatterConnector.sln"))) return dir.FullName;
        return null;
    }
}

/// <summary>The command line, parsed the way pwsh reads its own (case-insensitive, unique prefixes allowed).</summary>
internal sealed class Options
{
    public string? File { get; private set; }
    public List<string> Arguments { get; } = new();
    public string? Command { get; private set; }
    public string? ModulePath { get; private set; }
    public bool NoModule { get; private set; }
    public bool NonInteractive { get; private set; }
    public bool Help { get; private set; }

    private static readonly string[] s_names = { "file", "command", "modulepath", "nomodule", "noninteractive", "help" };

    public static Options Parse(string[] args)
    {
        var options = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "-?" or "/?" or "--help" or "-h") { options.Help = true; continue; }
            if (!arg.StartsWith('-') || arg.Length < 2)
            {
                // pwsh treats a bare first argument as the script file.
                options.File = arg;
                options.Arguments.AddRange(args.Skip(i + 1));
                break;
            }
            var name = Match(arg.TrimStart('-'));
            switch (name)
            {
                case "file":
                    if (i + 1 >= args.Length) throw new ArgumentException("-File needs a script path.");
                    options.File = args[i + 1];
                    options.Arguments.AddRange(args.Skip(i + 2));
                    i = args.Length;
                    break;
                case "command":
                    if (i + 1 >= args.Length) throw new ArgumentException("-Command needs the text of a command.");
                    options.Command = string.Join(' ', args.Skip(i + 1));
                    i = args.Length;
                    break;
                case "modulepath":
                    if (i + 1 >= args.Length) throw new ArgumentException("-ModulePath needs the path of a module manifest.");
                    options.ModulePath = args[++i];
                    break;
                case "nomodule": options.NoModule = true; break;
                case "noninteractive": options.NonInteractive = true; break;
                case "help": options.Help = true; break;
            }
        }
        return options;
    }

    private static string Match(string given)
    {
        var lower = given.ToLowerInvariant();
        if (lower == "c") return "command";
        if (lower == "f") return "file";
        var matches = s_names.Where(n => n.StartsWith(lower, StringComparison.Ordinal)).ToList();
        if (matches.Contains(lower)) return lower;
        if (matches.Count == 1) return matches[0];
        throw new ArgumentException(matches.Count == 0 ? $"unknown option -{given}." : $"option -{given} is ambiguous ({string.Join(", ", matches.Select(m => "-" + m))}).");
    }
}
