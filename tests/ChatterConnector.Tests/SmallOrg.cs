using System.Text;

namespace ChatterConnector.Tests;

/// <summary>
/// A small hand-written Salesforce data export whose every expected delivery is known, so tests
/// can check each (item, mailbox) pair. Expected fan-out with automatic mapping:
///   P1 (group post by Ann mentioning Bob) + C1 (Zoë's comment) + P1.r2 (Ann's edit) → ann, bob, zoe
///   P2 (Zoë's file post, one file missing) → zoe (PartiallyImported)
///   P3 (Dan's link post; Dan has no email) + C2 (Ann's comment) → ann; Dan unmapped twice
///   P4 (Ann's deleted post) + P4.deleted → ann
///   M1, M2 (Ann and Bob's private conversation) → ann, bob
/// </summary>
public static class SmallOrg
{
    public const string Ann = "005000000000001AAA", Bob = "005000000000002AAA", Zoe = "005000000000003AAA", Dan = "005000000000004AAA", Eve = "005000000000005AAA";
    public const string Group = "0F9000000000001AAA", Account = "001000000000001AAA";
    public const string P1 = "0D5000000000001AAA", P2 = "0D5000000000002AAA", P3 = "0D5000000000003AAA", P4 = "0D5000000000004AAA";
    public const string C1 = "0D7000000000001AAA", C2 = "0D7000000000002AAA", C3 = "0D7000000000003AAA";
    public const string F1 = "068000000000001AAA", F2 = "068000000000002AAA";
    public const string Conv = "0J0000000000001AAA", M1 = "0J1000000000001AAA", M2 = "0J1000000000002AAA";

    public static readonly Dictionary<string, string[]> ExpectedByMailbox = new()
    {
        ["ann.lee@contoso.com"] = new[] { P1, C1, P1 + ".r2", P3, C2, P4, P4 + ".deleted", M1, M2 },
        ["bob@contoso.com"] = new[] { P1, C1, P1 + ".r2", M1, M2 },
        ["zoe@fabrikam.com"] = new[] { P1, C1, P1 + ".r2", P2 },
    };

    public static int ExpectedDeliveries => ExpectedByMailbox.Values.Sum(v => v.Length);

    public static void Write(string dir)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "User.csv"),
            "Id,Name,Username,Email,IsActive,Department\r\n" +
            $"{Ann},Ann Lee,ann@contoso.sf,ann.lee@contoso.com,true,Sales\r\n" +
            $"{Bob},Bob Stone,bob@contoso.sf,bob@contoso.com,true,Sales\r\n" +
            $"{Zoe},Zoë Łukasiewicz,zoe@fabrikam.sf,zoe@fabrikam.com,true,R&D\r\n" +
            $"{Dan},Dan Nomail,dan@contoso.sf,,true,\r\n" +
            $"{Eve},Eve Old,eve@contoso.sf,eve@contoso.com,false,\r\n", new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(dir, "CollaborationGroup.csv"), $"Id,Name\r\n{Group},Sales Team\r\n");
        File.WriteAllText(Path.Combine(dir, "CollaborationGroupMember.csv"), $"CollaborationGroupId,MemberId\r\n{Group},{Ann}\r\n{Group},{Bob}\r\n");
        File.WriteAllText(Path.Combine(dir, "FeedItem.csv"),
            "Id,ParentId,Type,Title,Body,IsRichText,LinkUrl,RelatedRecordId,CreatedById,CreatedDate,LastEditById,LastEditDate,Revision,IsDeleted,SystemModstamp\r\n" +
            $"{P1},{Group},TextPost,,\"Kickoff, with \"\"quotes\"\"\nand a newline. @Bob Stone please review\",false,,,{Ann},2024-03-01T10:00:00.000+0000,{Ann},2024-03-02T09:00:00.000+0000,2,false,2024-03-02T09:00:00.000+0000\r\n" +
            $"{P2},{Ann},ContentPost,,\"<p>Report <b>attached</b><script>alert(1)</script></p>\",true,,{F1},{Zoe},2024-03-01T11:00:00.000+0000,,,1,false,2024-03-01T11:00:00.000+0000\r\n" +
            $"{P3},{Account},LinkPost,,Our partner site,false,https://example.com/partner,,{Dan},2024-03-01T12:00:00.000+0000,,,1,false,2024-03-01T12:00:00.000+0000\r\n" +
            $"{P4},{Ann},TextPost,,Oops wrong feed,false,,,{Ann},2024-03-01T13:00:00.000+0000,,,1,true,2024-03-01T14:00:00.000+0000\r\n", new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(dir, "FeedComment.csv"),
            "Id,FeedItemId,ParentId,CommentBody,CommentType,IsRichText,RelatedRecordId,CreatedById,CreatedDate,LastEditDate,Revision,IsDeleted,SystemModstamp\r\n" +
            $"{C1},{P1},{Group},Looks good,TextComment,false,,{Zoe},2024-03-01T10:30:00.000+0000,,1,false,2024-03-01T10:30:00.000+0000\r\n" +
            $"{C2},{P3},{Account},Nice,TextComment,false,,{Ann},2024-03-01T12:30:00.000+0000,,1,false,2024-03-01T12:30:00.000+0000\r\n", new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(dir, "FeedRevision.csv"),
            "Id,FeedEntityId,Revision,Action,EditedAttribute,Value,IsValueRichText,CreatedById,CreatedDate,IsDeleted,SystemModstamp\r\n" +
            $"0D6000000000001AAA,{P1},2,Edit,Body,Kickoff (edited) @Bob Stone,false,{Ann},2024-03-02T09:00:00.000+0000,false,2024-03-02T09:00:00.000+0000\r\n");
        File.WriteAllText(Path.Combine(dir, "FeedAttachment.csv"),
            $"Id,FeedEntityId,Type,RecordId,Title,Value\r\n0D8000000000001AAA,{P2},Content,{F1},report,\r\n0D8000000000002AAA,{P2},Content,{F2},chart,\r\n");
        File.WriteAllText(Path.Combine(dir, "ContentVersion.csv"),
            "Id,ContentDocumentId,Title,PathOnClient,FileExtension,ContentSize,Checksum\r\n" +
            $"{F1},069000000000001AAA,report,report.pdf,pdf,7,\r\n{F2},069000000000002AAA,chart,chart.png,png,100,\r\n");
        Directory.CreateDirectory(Path.Combine(dir, "ContentVersion"));
        File.WriteAllText(Path.Combine(dir, "ContentVersion", F1), "PDFDATA");
        File.WriteAllText(Path.Combine(dir, "ChatterConversationMember.csv"), $"ConversationId,MemberId\r\n{Conv},{Ann}\r\n{Conv},{Bob}\r\n");
        File.WriteAllText(Path.Combine(dir, "ChatterMessage.csv"),
            $"Id,ConversationId,SenderId,Body,SentDate\r\n{M1},{Conv},{Ann},Hi Bob,2024-03-03T08:00:00.000+0000\r\n{M2},{Conv},{Bob},Hi Ann,2024-03-03T08:05:00.000+0000\r\n");
    }

    /// <summary>A later export: Bob comments on Zoë's file post, so Bob joins that thread.</summary>
    public static void AddBobCommentOnP2(string dir) =>
        File.AppendAllText(Path.Combine(dir, "FeedComment.csv"),
            $"{C3},{P2},{Ann},Thanks for the report,TextComment,false,,{Bob},2024-04-01T10:00:00.000+0000,,1,false,2024-04-01T10:00:00.000+0000\r\n");

    /// <summary>
    /// Every (item key, mailbox) pair a connector should archive, worked out through another path
    /// than the import's: Get-ChatterItem's in-memory participants and Get-ChatterUserMapping.
    /// </summary>
    public static HashSet<(string Key, string Mailbox)> ExpectedPairs(PSSession session, string connector, IDictionary<string, object?> vars)
    {
        var mailboxes = session.Run($"Get-ChatterUserMapping -Name {connector} -StorePath $store | ForEach-Object {{ '{{0}}|{{1}}' -f $_.SalesforceUserId, $_.Mailbox }}", vars)
            .Output.Select(o => o.ToString().Split('|')).ToDictionary(p => p[0], p => p[1]);
        var items = session.Run($"Get-ChatterItem -Name {connector} -StorePath $store | ForEach-Object {{ $k = $_.Key; $_.Participants | ForEach-Object {{ '{{0}}|{{1}}' -f $k, $_.Id }} }}", vars);
        Assert.Empty(items.Errors);
        var expected = new HashSet<(string, string)>();
        foreach (var line in items.Output.Select(o => o.ToString().Split('|')))
            if (mailboxes.TryGetValue(line[1], out var mb) && mb.Length > 0) expected.Add((line[0], mb));
        return expected;
    }

    /// <summary>The messages in a Maildir archive: mailbox → X-Chatter item keys, one entry per file.</summary>
    public static Dictionary<string, List<string>> ReadArchive(string maildirRoot, string folder = "Salesforce Chatter")
    {
        var result = new Dictionary<string, List<string>>();
        if (!Directory.Exists(maildirRoot)) return result;
        foreach (var mailbox in Directory.GetDirectories(maildirRoot))
        {
            var keys = new List<string>();
            var dir = Path.Combine(mailbox, "." + folder);
            foreach (var sub in new[] { "cur", "new" })
            {
                var d = Path.Combine(dir, sub);
                if (!Directory.Exists(d)) continue;
                foreach (var file in Directory.GetFiles(d)) keys.Add(KeyOf(file));
            }
            result[Path.GetFileName(mailbox)] = keys;
        }
        return result;
    }

    /// <summary>The item key of an archived message, from its Message-ID (&lt;key@domain&gt;).</summary>
    public static string KeyOf(string emlPath)
    {
        foreach (var line in File.ReadLines(emlPath))
        {
            if (line.Length == 0) break;
            if (line.StartsWith("Message-ID:", StringComparison.OrdinalIgnoreCase) || line.StartsWith("Message-Id:", StringComparison.OrdinalIgnoreCase))
            {
                var v = line[(line.IndexOf(':') + 1)..].Trim().Trim('<', '>');
                return v[..v.LastIndexOf('@')];
            }
        }
        throw new InvalidDataException("No Message-ID in " + emlPath);
    }
}
