using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;

namespace ChatterConnector.Engine.Targets.Graph
{
    /// <summary>
    /// The batched create requests of the last few staged messages. A run hands out a thread item's
    /// deliveries one participant after another, and the create is the same JSON for every mailbox:
    /// without this, each delivery would read, parse and convert the same file again. Only small
    /// creates that carry everything are kept (each under the batch's share of the 3 MB request);
    /// the least recently used go first, and the whole stays under a bound of characters.
    /// </summary>
    internal sealed class RecentCreates
    {
        /// <summary>A create ready to send: the JSON was written for <see cref="MessageClass"/>.</summary>
        internal sealed class Entry
        {
            public Entry(string messageClass, string json, long requestBytes)
            {
                MessageClass = messageClass; Json = json; RequestBytes = requestBytes;
            }

            public string MessageClass { get; }
            public string Json { get; }
            public long RequestBytes { get; }
        }

        private readonly int _maxEntries;
        private readonly long _maxChars;
        private readonly object _lock = new object();
        private readonly Dictionary<string, LinkedListNode<KeyValuePair<string, Entry>>> _byKey = new Dictionary<string, LinkedListNode<KeyValuePair<string, Entry>>>(StringComparer.Ordinal);
        private readonly LinkedList<KeyValuePair<string, Entry>> _order = new LinkedList<KeyValuePair<string, Entry>>(); // most recent first
        private readonly Dictionary<string, TaskCompletionSource<Entry?>> _converting = new Dictionary<string, TaskCompletionSource<Entry?>>(StringComparer.Ordinal);
        private long _chars;

        public RecentCreates(int maxEntries = 64, long maxChars = 8L * 1024 * 1024)
        {
            _maxEntries = Math.Max(1, maxEntries);
            _maxChars = Math.Max(1, maxChars);
        }

        /// <summary>
        /// The key of a staged message: its path with the file's size and time, so a file staged
        /// again under the same name is not taken for the old one; the item type and Message-ID the
        /// JSON was made for. Null when the file cannot be read (the delivery then reports why).
        /// </summary>
        public static string? KeyOf(OutgoingMessage message, string messageId)
        {
            try
            {
                var file = new FileInfo(message.StagedPath);
                if (!file.Exists) return null;
                return message.StagedPath + "|" + file.Length + "|" + file.LastWriteTimeUtc.Ticks + "|" + message.ItemType + "|" + messageId;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException)
            {
                return null;
            }
        }

        /// <summary>
        /// The create kept for <paramref name="key"/>; or, while another delivery is converting that
        /// message, a task for its result (null if it kept nothing); or null with
        /// <paramref name="mine"/> set: the caller converts it, then calls <see cref="Add"/> or
        /// <see cref="Abandon"/>. Deliveries of one message to many participants start together, and
        /// only one of them should read and convert the file.
        /// </summary>
        public Task<Entry?>? Claim(string key, out bool mine)
        {
            mine = false;
            lock (_lock)
            {
                if (_byKey.TryGetValue(key, out var node))
                {
                    _order.Remove(node);
                    _order.AddFirst(node);
                    return Task.FromResult<Entry?>(node.Value.Value);
                }
                if (_converting.TryGetValue(key, out var pending)) return pending.Task;
                _converting[key] = new TaskCompletionSource<Entry?>(TaskCreationOptions.RunContinuationsAsynchronously);
                mine = true;
                return null;
            }
        }

        /// <summary>Nothing to keep for <paramref name="key"/> (the message does not fit, or converting it failed): those waiting convert it themselves.</summary>
        public void Abandon(string key)
        {
            TaskCompletionSource<Entry?>? pending;
            lock (_lock)
            {
                if (!_converting.TryGetValue(key, out pending)) return;
                _converting.Remove(key);
            }
            pending.TrySetResult(null);
        }

        /// <summary>Keeps <paramref name="entry"/> (replacing one kept before) and hands it to the deliveries waiting for it.</summary>
        public void Add(string key, Entry entry)
        {
            TaskCompletionSource<Entry?>? pending;
            lock (_lock)
            {
                if (_converting.TryGetValue(key, out pending)) _converting.Remove(key);
                if (entry.Json.Length <= _maxChars) Keep(key, entry);
            }
            pending?.TrySetResult(entry);
        }

        private void Keep(string key, Entry entry)
        {
            if (_byKey.TryGetValue(key, out var old))
            {
                _order.Remove(old);
                _chars -= old.Value.Value.Json.Length;
            }
            _byKey[key] = _order.AddFirst(new KeyValuePair<string, Entry>(key, entry));
            _chars += entry.Json.Length;
            while (_order.Count > _maxEntries || _chars > _maxChars)
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _byKey.Remove(last.Value.Key);
                _chars -= last.Value.Value.Json.Length;
            }
        }

        public int Count { get { lock (_lock) return _order.Count; } }
    }
}
