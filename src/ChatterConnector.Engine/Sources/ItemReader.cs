using System;
using System.Collections.Generic;
using System.Linq;
using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.Sources
{
    /// <summary>
    /// Reads every item of an export with its thread's participants filled in, without a store:
    /// for Get-ChatterItem and ad-hoc exports. Holds only thread → participant ids in memory.
    /// </summary>
    public static class ItemReader
    {
        public static IEnumerable<SourceRecord> ReadWithParticipants(IChatterSource source, SourceDirectory dir)
        {
            var none = new SourceWatermarks();
            var threads = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var rec in source.ReadItems(dir, none))
            {
                if (rec.Item == null) continue;
                if (!threads.TryGetValue(rec.Item.ThreadId, out var list)) threads[rec.Item.ThreadId] = list = new List<string>();
                foreach (var id in ParticipantIds(rec.Item, dir))
                    if (!list.Contains(id)) list.Add(id);
            }
            foreach (var rec in source.ReadItems(dir, none))
            {
                if (rec.Item != null && threads.TryGetValue(rec.Item.ThreadId, out var ids))
                    rec.Item.Participants = ids.OrderBy(id => id, StringComparer.Ordinal)   // as the import orders them
                        .Select(id => dir.FindUser(id) ?? new ChatterUser { Id = id, Name = id, IsActive = false }).ToList();
                yield return rec;
            }
        }

        /// <summary>Who an item makes a participant of its thread: its author, the users it mentions and, for a private message, the conversation's members.</summary>
        public static IEnumerable<string> ParticipantIds(ChatterItem item, SourceDirectory dir)
        {
            if (!string.IsNullOrEmpty(item.AuthorId)) yield return item.AuthorId;
            foreach (var m in item.Mentions) yield return m.Id;
            if (item.ItemType == ChatterItemType.PrivateMessage && dir.ConversationMembers.TryGetValue(item.ThreadId, out var members))
                foreach (var m in members) yield return m;
        }
    }
}
