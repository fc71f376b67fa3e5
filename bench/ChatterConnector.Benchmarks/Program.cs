using System.Diagnostics;
using System.Globalization;
using ChatterConnector.Engine.Import;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources.Sample;
using ChatterConnector.Engine.State;
using ChatterConnector.Engine.Targets.Graph;

// Archives a generated org of about 100,000 items into a Maildir and prints items/s, MB/s and
// peak memory, beside the time of a plain copy of as many .eml files of the same total size
// into a Maildir on the same disk, and the ratio of the two.
//
//   dotnet run -c Release --project bench/ChatterConnector.Benchmarks -- [--users 2000] [--posts 30000] [--dir PATH] [--keep]
//   … -- --source api     reads the org through the REST API from the fake Salesforce server (see ApiBenchmark)
//   … -- --target graph   20 mailboxes × 500 messages into the fake Microsoft Graph (see GraphBenchmark);
//                         --batch N: creates per JSON $batch (1 = no batching; default GraphTargetOptions.BatchSize)
//   … -- --workers 4      20 connectors of about 1,000 items in an Azure store on Azurite, run by 1 worker and
//                         then by 4 on a fresh store (see WorkersBenchmark); --connectors N, --users N --posts N (default 40, 300)

if (ArgText("--worker-of") is string workerStore)   // a worker process of --workers
{
    WorkersBenchmark.Worker(workerStore, ArgText("--work")!);
    return;
}
var users = Arg("--users", 2000);
var posts = Arg("--posts", 30000);
var root = ArgText("--dir") ?? Path.Combine(Path.GetTempPath(), "chatterconnector-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
var keep = args.Contains("--keep");
Directory.CreateDirectory(root);
if (ArgText("--target") == "graph")
{
    try { GraphBenchmark.Run(root, Arg("--mailboxes", 20), Arg("--messages", 500), Arg("--latency", 50), Arg("--batch", new GraphTargetOptions().BatchSize)); }
    finally { if (!keep) try { Directory.Delete(root, recursive: true); } catch (IOException) { } }
    return;
}
if (ArgText("--workers") != null)
{
    try { WorkersBenchmark.Run(root, Arg("--workers", 4), Arg("--connectors", 20), Arg("--users", 40), Arg("--posts", 300)); }
    finally { if (!keep) try { Directory.Delete(root, recursive: true); } catch (IOException) { } }
    return;
}
if (ArgText("--source") == "api")
{
    try { ApiBenchmark.Run(users, posts, root); }
    finally { if (!keep) try { Directory.Delete(root, recursive: true); } catch (IOException) { } }
    return;
}
var inv = CultureInfo.InvariantCulture;

try
{
    Console.WriteLine($"Generating a sample org ({users} users, {posts} posts) in {root} …");
    var sw = Stopwatch.StartNew();
    var summary = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = users, Posts = posts, Seed = 1 }).WriteExport(Path.Combine(root, "export"));
    Console.WriteLine($"  {summary.Items:N0} items, {summary.Files:N0} files ({summary.FileBytes / 1048576.0:N0} MB) in {sw.Elapsed.TotalSeconds:N1} s");

    using var store = ConnectorStore.Open(Path.Combine(root, "store"));
    var connector = new ChatterConnectorInfo
    {
        Name = "bench", SourcePath = Path.Combine(root, "export"), MaildirPath = Path.Combine(root, "maildir"),
        StagingPath = Path.Combine(root, "staging"), AutomaticMapping = true, Created = DateTimeOffset.UtcNow, Modified = DateTimeOffset.UtcNow,
    };
    store.AddConnector(connector);

    FlushDisk();
    GC.Collect();
    var peakBefore = Process.GetCurrentProcess().PeakWorkingSet64;
    sw.Restart();
    var stages = new StageClock(Stopwatch.StartNew());
    var run = new ImportPipeline(store, connector).Run(stages);
    var import = sw.Elapsed;
    stages.Stop();
    var peak = Process.GetCurrentProcess().PeakWorkingSet64;
    var delivered = run.Imported + run.PartiallyImported;

    // Baseline: copy as many staged .eml files into a Maildir the Maildir way (tmp, then rename into cur).
    var staged = Directory.GetFiles(Path.Combine(root, "staging"), "*.eml", SearchOption.AllDirectories);
    var copyRoot = Path.Combine(root, "copy");
    foreach (var sub in new[] { "cur", "new", "tmp" }) Directory.CreateDirectory(Path.Combine(copyRoot, sub));
    long copied = 0;
    FlushDisk();
    sw.Restart();
    for (var i = 0; i < delivered; i++)
    {
        var src = staged[i % staged.Length];
        var name = "copy-" + i.ToString(inv);
        var tmp = Path.Combine(copyRoot, "tmp", name);
        File.Copy(src, tmp);
        File.Move(tmp, Path.Combine(copyRoot, "cur", name + ":2,S"));
        copied += new FileInfo(src).Length;
    }
    var copy = sw.Elapsed;

    // A second run with nothing new.
    sw.Restart();
    var rerun = new ImportPipeline(store, connector).Run();
    var rerunTime = sw.Elapsed;

    Console.WriteLine();
    Console.WriteLine($"Import:   {run.ItemsAvailable:N0} items → {delivered:N0} messages ({run.Unmapped:N0} unmapped), {run.Bytes / 1048576.0:N1} MB, status {run.Status}");
    Console.WriteLine($"  time            {import.TotalSeconds,10:N2} s");
    Console.WriteLine($"  items/s         {run.ItemsAvailable / import.TotalSeconds,10:N0}");
    Console.WriteLine($"  messages/s      {delivered / import.TotalSeconds,10:N0}");
    Console.WriteLine($"  MB/s            {run.Bytes / 1048576.0 / import.TotalSeconds,10:N1}");
    Console.WriteLine($"  peak memory     {peak / 1048576.0,10:N0} MB (process peak working set; {peakBefore / 1048576.0:N0} MB before the import)");
    Console.WriteLine($"  managed heap    {stages.PeakManagedBytes / 1048576.0,10:N0} MB at most (sampled at each progress report)");
    Console.WriteLine($"  stages          {stages}");
    Console.WriteLine($"Baseline: plain copy of {delivered:N0} .eml files ({copied / 1048576.0:N1} MB) into a Maildir on the same disk");
    Console.WriteLine($"  time            {copy.TotalSeconds,10:N2} s");
    Console.WriteLine($"  MB/s            {copied / 1048576.0 / copy.TotalSeconds,10:N1}");
    Console.WriteLine($"Ratio import / plain copy: {import.TotalSeconds / copy.TotalSeconds:N2}x");
    Console.WriteLine($"No-change rerun: {rerunTime.TotalSeconds:N2} s, {rerun.ItemsAvailable} items, {rerun.MessagesAfterFanout} messages");
}
finally
{
    if (!keep) try { Directory.Delete(root, recursive: true); } catch (IOException) { }
}

// Both timed phases start with the page cache's dirty pages written out, so neither pays for the other's writes.
static void FlushDisk()
{
    if (OperatingSystem.IsWindows()) return;
    using var sync = Process.Start(new ProcessStartInfo("sync") { UseShellExecute = false });
    sync?.WaitForExit();
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

string? ArgText(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

/// <summary>Notes when each stage of the run starts, to print where the time went.</summary>
sealed class StageClock : IImportObserver
{
    private readonly Stopwatch _sw;
    private readonly List<(string Stage, TimeSpan At)> _starts = new();
    public StageClock(Stopwatch sw) => _sw = sw;
    public void Stop() => _sw.Stop();
    public long PeakManagedBytes { get; private set; }
    public void OnProgress(ImportProgress p)
    {
        PeakManagedBytes = Math.Max(PeakManagedBytes, GC.GetTotalMemory(false));
        if (_starts.Count == 0 || _starts[^1].Stage != p.Stage) _starts.Add((p.Stage, _sw.Elapsed));
    }
    public void OnFailure(string errorId, ChatterLogEntry entry) { }
    public void OnWarning(string message) { }
    public override string ToString() => string.Join(", ", _starts.Select((s, i) =>
        $"{s.Stage} {((i + 1 < _starts.Count ? _starts[i + 1].At : _sw.Elapsed) - s.At).TotalSeconds:N1} s"));
}
