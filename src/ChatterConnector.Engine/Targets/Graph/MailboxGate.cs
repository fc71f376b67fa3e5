using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace ChatterConnector.Engine.Targets.Graph
{
    /// <summary>
    /// Exchange's limits for one mailbox, shared by every thread writing to it: at most 4 requests
    /// in flight, a "not before" time set by a 429's Retry-After that every caller waits for, and the
    /// bytes uploaded in a sliding window (150 MB per 5 minutes).
    /// </summary>
    internal sealed class MailboxGate
    {
        public const int DefaultConcurrency = 4;

        private readonly SemaphoreSlim _slots;
        private readonly int _concurrency;
        private readonly object _lock = new object();
        private readonly Queue<(DateTimeOffset At, long Bytes)> _uploads = new Queue<(DateTimeOffset, long)>();
        private readonly long _uploadLimit;
        private readonly TimeSpan _uploadWindow;
        private readonly Func<DateTimeOffset> _clock;
        private readonly Action? _released;
        private DateTimeOffset _notBefore = DateTimeOffset.MinValue;
        private long _uploadTotal;

        /// <param name="released">Called after any slot is given back (outside every lock): the batcher then looks for creates that can go.</param>
        public MailboxGate(int concurrency = DefaultConcurrency, long uploadLimit = 150L * 1000 * 1000, TimeSpan? uploadWindow = null, Func<DateTimeOffset>? clock = null, Action? released = null)
        {
            if (concurrency < 1) throw new ArgumentOutOfRangeException(nameof(concurrency));
            _concurrency = concurrency;
            _released = released;
            _slots = new SemaphoreSlim(concurrency, concurrency);
            _uploadLimit = uploadLimit;
            _uploadWindow = uploadWindow ?? TimeSpan.FromMinutes(5);
            _clock = clock ?? (() => DateTimeOffset.UtcNow);
        }

        /// <summary>Requests of this mailbox in flight now.</summary>
        public int InFlight => _concurrency - _slots.CurrentCount;

        /// <summary>When the next request may start (after a 429).</summary>
        public DateTimeOffset NotBefore { get { lock (_lock) return _notBefore; } }

        /// <summary>A 429: nobody sends to this mailbox for <paramref name="retryAfter"/>.</summary>
        public void Throttled(TimeSpan retryAfter)
        {
            var until = _clock() + retryAfter;
            lock (_lock) if (until > _notBefore) _notBefore = until;
        }

        /// <summary>Runs one request: waits for the "not before" time, the upload window (when it sends <paramref name="uploadBytes"/>) and a free slot.</summary>
        public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, long uploadBytes, CancellationToken cancellationToken)
        {
            var slot = await EnterAsync(uploadBytes, cancellationToken).ConfigureAwait(false);
            try { return await call(cancellationToken).ConfigureAwait(false); }
            finally { slot.Dispose(); }
        }

        /// <summary>
        /// Takes a slot for a request sent elsewhere (an inner request of a $batch): waits as
        /// <see cref="RunAsync"/> does; the slot is held until the returned object is disposed (once; more calls do nothing).
        /// </summary>
        public async Task<IDisposable> EnterAsync(long uploadBytes, CancellationToken cancellationToken)
        {
            if (uploadBytes > 0) await ReserveUploadAsync(uploadBytes, cancellationToken).ConfigureAwait(false);
            while (true)
            {
                await WaitNotBeforeAsync(cancellationToken).ConfigureAwait(false);
                await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                if (NotBefore > _clock()) { Release(); continue; } // a 429 arrived while we queued
                return new Slot(this);
            }
        }

        /// <summary>
        /// Takes a slot now or not at all (for a create the batcher is about to put in a batch).
        /// Null when none is free: <paramref name="retryAt"/> is then when to try again if time is
        /// what holds it back (a 429, the upload window), or null when only a slot being given back can.
        /// </summary>
        public IDisposable? TryEnter(long uploadBytes, out DateTimeOffset? retryAt)
        {
            retryAt = null;
            lock (_lock)
            {
                var now = _clock();
                if (_notBefore > now) { retryAt = _notBefore; return null; }
                if (uploadBytes > 0)
                {
                    var wait = UploadWaitLocked(uploadBytes, now);
                    if (wait > TimeSpan.Zero) { retryAt = now + wait; return null; }
                }
                if (!_slots.Wait(0)) return null;
                if (uploadBytes > 0) { _uploads.Enqueue((now, uploadBytes)); _uploadTotal += uploadBytes; }
                return new Slot(this);
            }
        }

        private void Release()
        {
            _slots.Release();
            _released?.Invoke();
        }

        private sealed class Slot : IDisposable
        {
            private MailboxGate? _gate;
            public Slot(MailboxGate gate) { _gate = gate; }
            public void Dispose() => Interlocked.Exchange(ref _gate, null)?.Release();
        }

        private async Task WaitNotBeforeAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                var wait = NotBefore - _clock();
                if (wait <= TimeSpan.Zero) return;
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>Counts <paramref name="bytes"/> into the window, waiting while the window is full (a single upload larger than the limit goes alone).</summary>
        internal async Task ReserveUploadAsync(long bytes, CancellationToken cancellationToken)
        {
            while (true)
            {
                TimeSpan wait;
                lock (_lock)
                {
                    var now = _clock();
                    wait = UploadWaitLocked(bytes, now);
                    if (wait <= TimeSpan.Zero)
                    {
                        _uploads.Enqueue((now, bytes));
                        _uploadTotal += bytes;
                        return;
                    }
                }
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>Zero when <paramref name="bytes"/> fit in the window now; else how long until the oldest upload leaves it (at least 1 ms).</summary>
        private TimeSpan UploadWaitLocked(long bytes, DateTimeOffset now)
        {
            while (_uploads.Count > 0 && now - _uploads.Peek().At >= _uploadWindow) _uploadTotal -= _uploads.Dequeue().Bytes;
            if (_uploads.Count == 0 || _uploadTotal + bytes <= _uploadLimit) return TimeSpan.Zero;
            var wait = _uploads.Peek().At + _uploadWindow - now;
            return wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait;
        }

        /// <summary>Bytes counted in the current window.</summary>
        internal long UploadedInWindow { get { lock (_lock) return _uploadTotal; } }
    }
}
