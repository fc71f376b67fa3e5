using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ChatterConnector.Fakes;

/// <summary>
/// The fakes' injected latency, ended on time. Task.Delay on Linux ends 1–4 ms late: the timer queue
/// counts in ticks of the coarse monotonic clock, and the code after it then queues on the thread
/// pool. A latency of 50 ms must add 50 ms, not 52.5, or a benchmark measures the fake's clock
/// instead of the client. One thread waits on the precise clock for the earliest due time: whole
/// milliseconds on a wait handle, the last fraction of one with nanosleep (on Linux; elsewhere the
/// wait rounds up, so it never ends early). The waiting code goes on on that thread, up to its next
/// await: the fake's handlers are short and never block.
/// </summary>
internal sealed class LatencyTimer : IDisposable
{
    private readonly PriorityQueue<TaskCompletionSource, long> _due = new();
    private readonly AutoResetEvent _changed = new(false);
    private readonly List<TaskCompletionSource> _ended = new();
    private readonly Thread _thread;
    private bool _stopped;

    public LatencyTimer()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "Fake latency timer" };
        _thread.Start();
    }

    public async Task Delay(TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero) return;
        cancellationToken.ThrowIfCancellationRequested();
        var done = new TaskCompletionSource();
        var due = Stopwatch.GetTimestamp() + (long)Math.Ceiling(delay.TotalSeconds * Stopwatch.Frequency);
        lock (_due)
        {
            if (_stopped) throw new OperationCanceledException("The fake is stopping.");
            var earliest = !_due.TryPeek(out _, out var first) || due < first;
            _due.Enqueue(done, due);
            if (earliest) _changed.Set();
        }
        using (cancellationToken.Register(static d => ((TaskCompletionSource)d!).TrySetCanceled(), done))
            await done.Task;
    }

    private void Run()
    {
        while (true)
        {
            long wait;
            _ended.Clear();
            lock (_due)
            {
                if (_stopped) return;
                var now = Stopwatch.GetTimestamp();
                while (_due.TryPeek(out var done, out var due) && due <= now)
                {
                    _due.Dequeue();
                    _ended.Add(done);
                }
                wait = _due.TryPeek(out _, out var next) ? next - now : -1;
            }
            if (_ended.Count > 0)
            {
                foreach (var done in _ended) done.TrySetResult();
                continue; // that took time: look at the clock again
            }
            var ms = wait * 1000.0 / Stopwatch.Frequency;
            if (wait < 0) _changed.WaitOne();
            else if (!OperatingSystem.IsLinux()) _changed.WaitOne((int)Math.Ceiling(ms));
            else if (ms >= 1) _changed.WaitOne((int)ms);
            else SleepPrecisely(wait); // the last fraction of a millisecond, which a wait handle cannot count
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public nint Seconds;
        public nint Nanoseconds;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int nanosleep(ref TimeSpec request, IntPtr remaining);

    private static void SleepPrecisely(long ticks)
    {
        var spec = new TimeSpec { Seconds = 0, Nanoseconds = (nint)(ticks * 1_000_000_000 / Stopwatch.Frequency) };
        if (spec.Nanoseconds > 0) nanosleep(ref spec, IntPtr.Zero);
    }

    public void Dispose()
    {
        lock (_due)
        {
            if (_stopped) return;
            _stopped = true;
            while (_due.TryDequeue(out var done, out _)) done.TrySetCanceled();
        }
        _changed.Set();
        _thread.Join();
        _changed.Dispose();
    }
}
