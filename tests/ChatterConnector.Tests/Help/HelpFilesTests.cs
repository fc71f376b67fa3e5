namespace ChatterConnector.Tests.Help;

/// <summary>The MAML and about_ files under module/en-US are generated from docs/ and must match it.</summary>
public class HelpFilesTests
{
    [Fact]
    public void HelpFilesAreUpToDate()
    {
        var generated = MamlGenerator.Generate(Repo.Root);
        var update = Environment.GetEnvironmentVariable("CHATTER_UPDATE_HELP") == "1";
        var stale = new List<string>();
        foreach (var (relative, text) in generated)
        {
            var path = Path.Combine(Repo.Root, relative);
            var committed = File.Exists(path) ? File.ReadAllText(path).Replace("\r\n", "\n") : null;
            if (committed == text) continue;
            if (update)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, text, new System.Text.UTF8Encoding(false));
            }
            else stale.Add(relative);
        }
        Assert.True(stale.Count == 0,
            "These help files do not match docs/: " + string.Join(", ", stale) +
            ". Regenerate them with: CHATTER_UPDATE_HELP=1 dotnet test tests/ChatterConnector.Tests --filter HelpFilesAreUpToDate");
    }

    [Fact]
    public void TheMamlHasEveryDocumentedCmdlet_IncludingNewChatterSampleExport()
    {
        var pages = Directory.GetFiles(Path.Combine(Repo.Root, "docs"), "*-*.md").Select(Path.GetFileNameWithoutExtension).ToList();
        var maml = System.Xml.Linq.XDocument.Parse(MamlGenerator.Generate(Repo.Root)[Path.Combine("module", "en-US", MamlGenerator.MamlFileName)]);
        XNamespaceHolder ns = new();
        var names = maml.Descendants(ns.Command + "details").Select(d => d.Element(ns.Command + "name")!.Value).ToList();
        Assert.Equal(pages.OrderBy(p => p, StringComparer.Ordinal), names);
        Assert.Contains("New-ChatterSampleExport", names);
    }

    [Fact]
    public void AParameterBlockIsReadFromItsYaml()
    {
        const string md = "---\nonline version: https://example.com/x\n---\n\n# Get-Thing\n\n## SYNOPSIS\nGets a thing.\n\n## SYNTAX\n\n### ByName (Default)\n```\nGet-Thing [-Name] <string>\n```\n\n" +
                          "## DESCRIPTION\nLine one\nline two.\n\n- a\n- b\n\n## EXAMPLES\n\n### Example 1: one\n```powershell\nGet-Thing x\n```\n\nRemark.\n\n## PARAMETERS\n\n### -Name\nThe name.\n\n" +
                          "```yaml\nType: String[]\nParameter Sets: ByName\nAliases: N\n\nRequired: True\nPosition: 0\nDefault value: None\nAccept pipeline input: True (ByPropertyName)\nAccept wildcard characters: True\n```\n\n### CommonParameters\nx\n\n## INPUTS\n\n### System.String\nNames.\n\n## OUTPUTS\n\n### Thing\nA thing.\n\n## NOTES\nNone.\n\n## RELATED LINKS\n\n[Set-Thing](Set-Thing.md)\n";
        var page = MamlGenerator.CommandPage.Parse(md, "Get-Thing.md");
        var xml = MamlGenerator.ToMaml(new[] { page });
        Assert.Contains("<maml:para>Line one line two.</maml:para>", xml);
        Assert.Contains("<maml:para>- a</maml:para>", xml);
        Assert.Contains("required=\"true\" variableLength=\"true\" globbing=\"true\" pipelineInput=\"True (ByPropertyName)\" position=\"0\" aliases=\"N\"", xml);
        Assert.Contains("<dev:code>Get-Thing x</dev:code>", xml);
        Assert.Contains("<maml:uri>https://example.com/x</maml:uri>", xml);
        Assert.Throws<FormatException>(() => MamlGenerator.CommandPage.Parse(md, "Get-Other.md"));
    }

    private sealed class XNamespaceHolder
    {
        public System.Xml.Linq.XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    }
}
