using System.Diagnostics;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Import;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources.Sample;
using ChatterConnector.Engine.State;
using ChatterConnector.Fakes;

/// <summary>
/// `--workers N`: 20 connectors of about 1,000 items each (one generated export, a Maildir each) in an
/// Azure store on Azurite, imported once by one worker and once by N workers on a fresh store. A worker
/// is a process of its own (this program again, see <see cref="Worker"/>), as each Azure Automation job is;
/// the store requests counted are the workers' (the admin's set-up is not counted). Prints messages/s for both, the speed-up (goal: near N
/// when the machine has the cores), store requests and requests per message.
/// </summary>
static class WorkersBenchmark
{
    public static void Run(string root, int workers = 4, int connectors = 20, int users = 40, int posts = 300)
    {
        Console.WriteLine($"Generating a sample org ({users} users, {posts} posts); each phase starts an Azurite of its own …");
        var summary = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = users, Posts = posts, Seed = 1 }).WriteExport(Path.Combine(root, "export"));

        Phase(root, "warm", 1, 1);   // the first import pays for reading the export from disk: not the 1-worker figure's job
        var one = Phase(root, "one", 1, connectors);
        var many = Phase(root, "many", workers, connectors);

        Console.WriteLine();
        Console.WriteLine($"Workers: {connectors} connectors × {summary.Items:N0} items into Maildirs, Azure store on Azurite; {Environment.ProcessorCount} cores on this machine");
        Print("1 worker", one);
        Print($"{workers} workers", many);
        var speedUp = many.Rate / one.Rate;
        Console.WriteLine($"  speed-up        {speedUp,10:N2}x ({workers} workers against 1; goal near {Math.Min(workers, Environment.ProcessorCount)} on {Environment.ProcessorCount} cores)");
        if (Environment.ProcessorCount < workers * 2)
            Console.WriteLine($"  note: the worker processes and Azurite share {Environment.ProcessorCount} cores here, so the speed-up says more about the CPU than about the store; " +
                "on one machine per worker (Azure Automation jobs) each would have its own.");
        Console.WriteLine("  note: Azurite is one Node.js thread serving every worker; when its share above nears 1.00 the emulator, not the workers, sets the pace (Azure Storage scales per partition).");
    }

    private sealed record Result(int Workers, TimeSpan Time, long Messages, long Requests, int Runs, int DistinctWorkers, bool Once, TimeSpan Cpu, TimeSpan AzuriteCpu)
    {
        public double Rate => Messages / Time.TotalSeconds;
    }

    private static void Print(string label, Result r)
    {
        Console.WriteLine($"  {label,-15} {r.Messages:N0} messages in {r.Time.TotalSeconds:N1} s = {r.Rate,8:N0} messages/s; " +
            $"{r.Requests:N0} store requests = {r.Requests / (double)r.Messages:N3} per message; {r.Runs} runs on {r.DistinctWorkers} worker(s); " +
            $"CPU: workers {r.Cpu.TotalSeconds:N0} s ({r.Cpu.TotalSeconds / r.Time.TotalSeconds:N2} cores), Azurite {r.AzuriteCpu.TotalSeconds:N0} s ({r.AzuriteCpu.TotalSeconds / r.Time.TotalSeconds:N2} of its one thread); " +
            (r.Once ? "every connector once, every message once" : "NOT every connector exactly once or a message twice"));
    }

    /// <summary>Creates the connectors in a store of their own, then runs them on <paramref name="workers"/> worker processes at once.</summary>
    private static Result Phase(string root, string name, int workers, int connectors)
    {
        // A fresh Azurite for each phase: the emulator slows as it holds more, and one phase must not pay for another's data.
        using var azurite = Azurite.StartAsync().GetAwaiter().GetResult();
        var cs = azurite.ConnectionString + $"Container=bench{name};TablePrefix=bench{name};";
        var options = new AzureStoreOptions { WorkPath = Path.Combine(root, name, "work") };
        var names = Enumerable.Range(1, connectors).Select(i => $"C{i:00}").ToList();
        using (var admin = AzureConnectorStore.Open(cs, options))
        {
            foreach (var n in names)
                admin.AddConnector(new ChatterConnectorInfo
                {
                    Name = n, SourcePath = Path.Combine(root, "export"), MaildirPath = Path.Combine(root, name, "maildir-" + n),
                    StagingPath = Path.Combine(root, name, "staging-" + n), AutomaticMapping = true, Created = DateTimeOffset.UtcNow, Modified = DateTimeOffset.UtcNow,
                });
        }

        // Each worker a process of its own, as each Azure Automation job is: started together, timed until the last ends.
        var azuriteCpu = azurite.ProcessorTime;
        var sw = Stopwatch.StartNew();
        var children = Enumerable.Range(0, workers).Select(_ => StartWorker(cs, options.WorkPath!)).ToList();
        var reports = children.Select(p => (Out: p.StandardOutput.ReadToEndAsync(), Err: p.StandardError.ReadToEndAsync())).ToList();
        children.ForEach(p => p.WaitForExit());
        var time = sw.Elapsed;
        azuriteCpu = azurite.ProcessorTime - azuriteCpu;
        var results = reports.Select((r, i) => children[i].ExitCode == 0 && r.Out.Result.StartsWith("RESULT ", StringComparison.Ordinal)
            ? r.Out.Result.Trim().Split(' ') : throw new InvalidOperationException("a worker failed: " + r.Out.Result + r.Err.Result)).ToList();
        children.ForEach(p => p.Dispose());

        var runs = results.Sum(r => int.Parse(r[1]));
        var messages = results.Sum(r => long.Parse(r[2]));
        var requests = results.Sum(r => long.Parse(r[3]));
        var cpu = TimeSpan.FromMilliseconds(results.Sum(r => long.Parse(r[4])));
        var ran = results.SelectMany(r => r.Skip(5)).ToList();
        var files = names.Sum(n => (long)CountMessages(Path.Combine(root, name, "maildir-" + n)));
        var once = runs == connectors && ran.Distinct().Count() == connectors && !ran.Contains("!") && files == messages;
        return new Result(workers, time, messages, requests, runs, results.Count(r => int.Parse(r[1]) > 0), once, cpu, azuriteCpu);
    }

    private static Process StartWorker(string connectionString, string workPath)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") info.ArgumentList.Add(typeof(WorkersBenchmark).Assembly.Location);
        foreach (var a in new[] { "--worker-of", connectionString, "--work", workPath }) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    /// <summary>
    /// One worker process (`--worker-of CONNECTIONSTRING --work PATH`): does what Start-ChatterImport does for each
    /// connector of its list (take the run lock or skip it when busy, read the connector again, run it when still
    /// due) and prints "RESULT runs messages storeRequests cpuMilliseconds connector…" ("!" for a run that did not succeed).
    /// </summary>
    public static void Worker(string connectionString, string workPath)
    {
        using var store = AzureConnectorStore.Open(connectionString, new AzureStoreOptions { WorkPath = workPath });
        var ran = new List<string>();
        long messages = 0;
        foreach (var listed in store.ListConnectors())
        {
            IConnectorLease lease;
            try { lease = store.AcquireRunLock(listed.Name); }
            catch (ChatterException ex) when (ex.ErrorId == "ChatterImport.ConnectorBusy") { continue; }
            using (lease)
            {
                var c = store.FindConnector(listed.Name);
                if (c == null || !c.IsDue(DateTimeOffset.UtcNow)) continue;
                var run = new ImportPipeline(store, c).Run(lease);
                messages += run.Imported + run.PartiallyImported;
                ran.Add(run.Status == ImportRunStatus.Succeeded ? run.ConnectorName : "!");
            }
        }
        var cpu = (long)Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
        Console.WriteLine($"RESULT {ran.Count} {messages} {store.RequestCount} {cpu} {string.Join(" ", ran)}".TrimEnd());
    }

    private static int CountMessages(string maildir) =>
        Directory.Exists(maildir) ? Directory.EnumerateFiles(maildir, "*", SearchOption.AllDirectories).Count(f => f.Contains(Path.DirectorySeparatorChar + "cur" + Path.DirectorySeparatorChar)) : 0;
}
