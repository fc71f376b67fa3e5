using System.Text;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;

namespace ChatterConnector.Tests.Help;

/// <summary>
/// Turns the platyPS markdown pages of docs/ into the files Get-Help reads: the MAML file
/// (ChatterConnector.dll-Help.xml) from the cmdlet pages and about_ChatterConnector.help.txt from
/// the about page. The markdown is the source; the generated files are committed under
/// module/en-US and HelpFilesAreUpToDate keeps them in step.
/// </summary>
public static class MamlGenerator
{
    public const string MamlFileName = "ChatterConnector.dll-Help.xml";

    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";
    private static readonly XNamespace MSHelp = "http://msdn.microsoft.com/mshelp";

    /// <summary>The generated files, by path relative to the repository root.</summary>
    public static Dictionary<string, string> Generate(string repoRoot)
    {
        var docs = Path.Combine(repoRoot, "docs");
        var pages = Directory.GetFiles(docs, "*.md")
            .Where(f => !Path.GetFileName(f).StartsWith("about_", StringComparison.OrdinalIgnoreCase))
            .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)
            .Select(f => CommandPage.Parse(File.ReadAllText(f), Path.GetFileName(f)))
            .ToList();
        var result = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [Path.Combine("module", "en-US", MamlFileName)] = ToMaml(pages),
        };
        foreach (var about in Directory.GetFiles(docs, "about_*.md").OrderBy(f => f, StringComparer.Ordinal))
            result[Path.Combine("module", "en-US", Path.GetFileNameWithoutExtension(about) + ".help.txt")] = ToAboutText(File.ReadAllText(about));
        return result;
    }

    // ---------------------------------------------------------------- markdown model

    public sealed class ParameterBlock
    {
        public string Type = "", Aliases = "", Position = "Named", DefaultValue = "None", PipelineInput = "False";
        public List<string> Sets = new();
        public bool Required, Globbing;
        public bool AppliesTo(string set) => Sets.Contains("(All)") || Sets.Contains(set);
    }

    public sealed class Parameter
    {
        public string Name = "";
        public string Description = "";
        public List<ParameterBlock> Blocks = new();
    }

    public sealed class Example
    {
        public string Title = "", Code = "", Remarks = "";
    }

    public sealed class CommandPage
    {
        public string Name = "", OnlineVersion = "", Synopsis = "", Description = "", Notes = "";
        public List<(string Name, bool IsDefault)> Sets = new();
        public List<Example> Examples = new();
        public List<Parameter> Parameters = new();
        public List<(string Type, string Description)> Inputs = new(), Outputs = new();
        public List<(string Text, string Uri)> Links = new();

        public static CommandPage Parse(string markdown, string fileName)
        {
            var lines = markdown.Replace("\r\n", "\n").Split('\n');
            var page = new CommandPage();
            var i = 0;
            if (lines[0].Trim() == "---")
            {
                for (i = 1; i < lines.Length && lines[i].Trim() != "---"; i++)
                {
                    var m = Regex.Match(lines[i], @"^online version:\s*(.*)$");
                    if (m.Success) page.OnlineVersion = m.Groups[1].Value.Trim();
                }
                i++;
            }
            var sections = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            List<string>? current = null;
            for (; i < lines.Length; i++)
            {
                var line = lines[i];
                if (line.StartsWith("# ", StringComparison.Ordinal) && page.Name.Length == 0) { page.Name = line[2..].Trim(); continue; }
                if (line.StartsWith("## ", StringComparison.Ordinal)) { sections[line[3..].Trim()] = current = new List<string>(); continue; }
                current?.Add(line);
            }
            if (page.Name.Length == 0 || page.Name + ".md" != fileName)
                throw new FormatException($"{fileName}: the title must be '# {Path.GetFileNameWithoutExtension(fileName)}'.");
            string Section(string name) => sections.TryGetValue(name, out var s) ? string.Join("\n", s).Trim() : throw new FormatException($"{fileName}: no '## {name}' section.");

            page.Synopsis = Section("SYNOPSIS");
            page.Description = Section("DESCRIPTION");
            page.Notes = sections.ContainsKey("NOTES") ? Section("NOTES") : "";
            foreach (var (title, body) in Subsections(Section("SYNTAX")))
            {
                var isDefault = title.EndsWith("(Default)", StringComparison.Ordinal);
                page.Sets.Add((isDefault ? title[..^"(Default)".Length].Trim() : title, isDefault));
            }
            foreach (var (title, body) in Subsections(Section("EXAMPLES")))
            {
                var (code, rest) = SplitFences(body);
                page.Examples.Add(new Example { Title = title, Code = code, Remarks = rest });
            }
            foreach (var (title, body) in Subsections(Section("PARAMETERS")))
            {
                if (title == "CommonParameters") continue;
                if (!title.StartsWith("-", StringComparison.Ordinal)) throw new FormatException($"{fileName}: parameter heading '{title}' must start with '-'.");
                page.Parameters.Add(ParseParameter(title[1..], body, fileName));
            }
            foreach (var (title, body) in Subsections(Section("INPUTS"))) page.Inputs.Add((title, body));
            foreach (var (title, body) in Subsections(Section("OUTPUTS"))) page.Outputs.Add((title, body));
            foreach (Match m in Regex.Matches(sections.TryGetValue("RELATED LINKS", out var rl) ? string.Join("\n", rl) : "", @"\[([^\]]+)\]\(([^)]*)\)"))
                page.Links.Add((m.Groups[1].Value, m.Groups[2].Value));
            if (page.Sets.Count == 0) throw new FormatException($"{fileName}: '## SYNTAX' has no parameter set.");
            return page;
        }

        private static Parameter ParseParameter(string name, string body, string fileName)
        {
            var p = new Parameter { Name = name };
            var text = new List<string>();
            var lines = body.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].Trim() != "```yaml") { text.Add(lines[i]); continue; }
                var block = new ParameterBlock();
                for (i++; i < lines.Length && lines[i].Trim() != "```"; i++)
                {
                    var colon = lines[i].IndexOf(':');
                    if (colon < 0) continue;
                    var key = lines[i][..colon].Trim();
                    var value = lines[i][(colon + 1)..].Trim();
                    switch (key)
                    {
                        case "Type": block.Type = value; break;
                        case "Parameter Sets": block.Sets = value.Split(',').Select(s => s.Trim()).Where(s => s.Length > 0).ToList(); break;
                        case "Aliases": block.Aliases = value; break;
                        case "Required": block.Required = bool.Parse(value); break;
                        case "Position": block.Position = value; break;
                        case "Default value": block.DefaultValue = value; break;
                        case "Accept pipeline input": block.PipelineInput = value; break;
                        case "Accept wildcard characters": block.Globbing = bool.Parse(value); break;
                    }
                }
                p.Blocks.Add(block);
            }
            p.Description = string.Join("\n", text).Trim();
            if (p.Blocks.Count == 0) throw new FormatException($"{fileName}: parameter -{name} has no yaml block.");
            return p;
        }

        private static IEnumerable<(string Title, string Body)> Subsections(string section)
        {
            string? title = null;
            var body = new List<string>();
            var inFence = false;
            foreach (var line in section.Split('\n'))
            {
                if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) inFence = !inFence;
                if (!inFence && line.StartsWith("### ", StringComparison.Ordinal))
                {
                    if (title != null) yield return (title, string.Join("\n", body).Trim());
                    title = line[4..].Trim();
                    body.Clear();
                    continue;
                }
                body.Add(line);
            }
            if (title != null) yield return (title, string.Join("\n", body).Trim());
        }

        /// <summary>The content of the fenced code blocks, and the text outside them.</summary>
        private static (string Code, string Text) SplitFences(string body)
        {
            var code = new List<string>();
            var rest = new List<string>();
            var inFence = false;
            foreach (var line in body.Split('\n'))
            {
                if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) { inFence = !inFence; continue; }
                (inFence ? code : rest).Add(line);
            }
            return (string.Join("\n", code).Trim(), string.Join("\n", rest).Trim());
        }
    }

    // ---------------------------------------------------------------- MAML

    public static string ToMaml(IEnumerable<CommandPage> pages)
    {
        var root = new XElement(Msh + "helpItems", new XAttribute("schema", "maml"));
        foreach (var page in pages) root.Add(ToCommand(page));
        var sb = new StringBuilder();
        var settings = new XmlWriterSettings { Indent = true, IndentChars = "  ", NewLineChars = "\n", Encoding = new UTF8Encoding(false), OmitXmlDeclaration = false };
        using (var sw = new Utf8StringWriter(sb))
        using (var w = XmlWriter.Create(sw, settings))
            new XDocument(new XDeclaration("1.0", "utf-8", null), root).Save(w);
        return sb.Append('\n').ToString();
    }

    private sealed class Utf8StringWriter : StringWriter
    {
        public Utf8StringWriter(StringBuilder sb) : base(sb, System.Globalization.CultureInfo.InvariantCulture) { }
        public override Encoding Encoding => new UTF8Encoding(false);
    }

    private static XElement ToCommand(CommandPage page)
    {
        var dash = page.Name.IndexOf('-');
        var command = new XElement(Command + "command",
            new XAttribute(XNamespace.Xmlns + "maml", Maml), new XAttribute(XNamespace.Xmlns + "command", Command),
            new XAttribute(XNamespace.Xmlns + "dev", Dev), new XAttribute(XNamespace.Xmlns + "MSHelp", MSHelp),
            new XElement(Command + "details",
                new XElement(Command + "name", page.Name),
                new XElement(Command + "verb", page.Name[..dash]),
                new XElement(Command + "noun", page.Name[(dash + 1)..]),
                Description(page.Synopsis)),
            Description(page.Description));

        var syntax = new XElement(Command + "syntax");
        foreach (var (set, _) in page.Sets)
        {
            var item = new XElement(Command + "syntaxItem", new XElement(Maml + "name", page.Name));
            // Positional parameters first, in position order, as PowerShell lists them; then the named ones in page order.
            var members = page.Parameters
                .Select(p => (Parameter: p, Block: p.Blocks.FirstOrDefault(b => b.AppliesTo(set) || set == "__AllParameterSets")))
                .Where(x => x.Block != null)
                .OrderBy(x => int.TryParse(x.Block!.Position, out var n) ? n : int.MaxValue)
                .ToList();
            foreach (var (p, b) in members) item.Add(ToParameter(p, b!, inSyntax: true));
            syntax.Add(item);
        }
        command.Add(syntax);

        var parameters = new XElement(Command + "parameters");
        foreach (var p in page.Parameters) parameters.Add(ToParameter(p, p.Blocks[0], inSyntax: false));
        command.Add(parameters);

        command.Add(new XElement(Command + "inputTypes", page.Inputs.Select(t => new XElement(Command + "inputType",
            new XElement(Dev + "type", new XElement(Maml + "name", t.Type)), Description(t.Description)))));
        command.Add(new XElement(Command + "returnValues", page.Outputs.Select(t => new XElement(Command + "returnValue",
            new XElement(Dev + "type", new XElement(Maml + "name", t.Type)), Description(t.Description)))));
        command.Add(new XElement(Maml + "alertSet", new XElement(Maml + "alert", Paragraphs(page.Notes))));

        var examples = new XElement(Command + "examples");
        foreach (var e in page.Examples)
            examples.Add(new XElement(Command + "example",
                new XElement(Maml + "title", "-------------------------- " + e.Title + " --------------------------"),
                new XElement(Dev + "code", e.Code),
                new XElement(Dev + "remarks", Paragraphs(e.Remarks))));
        command.Add(examples);

        var links = new XElement(Command + "relatedLinks");
        if (page.OnlineVersion.Length > 0)
            links.Add(Link("Online Version:", page.OnlineVersion));
        foreach (var (text, uri) in page.Links)
            links.Add(Link(text, uri.StartsWith("http", StringComparison.OrdinalIgnoreCase) ? uri : ""));
        command.Add(links);
        return command;
    }

    private static XElement Link(string text, string uri) =>
        new XElement(Maml + "navigationLink", new XElement(Maml + "linkText", text), new XElement(Maml + "uri", uri));

    private static XElement ToParameter(Parameter p, ParameterBlock b, bool inSyntax)
    {
        var isSwitch = b.Type == "SwitchParameter";
        var e = new XElement(Command + "parameter",
            new XAttribute("required", b.Required ? "true" : "false"),
            new XAttribute("variableLength", b.Type.EndsWith("[]", StringComparison.Ordinal) ? "true" : "false"),
            new XAttribute("globbing", b.Globbing ? "true" : "false"),
            new XAttribute("pipelineInput", b.PipelineInput),
            new XAttribute("position", int.TryParse(b.Position, out _) ? b.Position : "named"),
            new XAttribute("aliases", b.Aliases.Length == 0 ? "none" : b.Aliases),
            new XElement(Maml + "name", p.Name),
            Description(p.Description));
        if (!(isSwitch && inSyntax))
            e.Add(new XElement(Command + "parameterValue", new XAttribute("required", isSwitch ? "false" : "true"), new XAttribute("variableLength", "false"), b.Type));
        e.Add(new XElement(Dev + "type", new XElement(Maml + "name", b.Type), new XElement(Maml + "uri")));
        e.Add(new XElement(Dev + "defaultValue", b.DefaultValue));
        return e;
    }

    private static XElement Description(string markdown) => new XElement(Maml + "description", Paragraphs(markdown));

    /// <summary>One maml:para per paragraph; list items each get their own; markdown marks are dropped.</summary>
    private static IEnumerable<XElement> Paragraphs(string markdown)
    {
        foreach (var block in Regex.Split(markdown.Replace("\r\n", "\n").Trim(), @"\n\s*\n"))
        {
            if (block.Trim().Length == 0) continue;
            var lines = block.Split('\n').Select(l => l.Trim()).ToList();
            if (lines.All(IsListItem))
                foreach (var l in lines) yield return new XElement(Maml + "para", Plain(l));
            else if (lines.Count > 1 && IsListItem(lines[0]))
            {
                // A list whose items wrap onto several lines.
                var item = new StringBuilder();
                foreach (var l in lines)
                {
                    if (IsListItem(l) && item.Length > 0) { yield return new XElement(Maml + "para", Plain(item.ToString())); item.Clear(); }
                    item.Append(item.Length > 0 ? " " : "").Append(l);
                }
                if (item.Length > 0) yield return new XElement(Maml + "para", Plain(item.ToString()));
            }
            else yield return new XElement(Maml + "para", Plain(string.Join(" ", lines)));
        }
    }

    private static bool IsListItem(string line) => line.StartsWith("- ", StringComparison.Ordinal) || Regex.IsMatch(line, @"^\d+\. ");

    private static string Plain(string text) =>
        Regex.Replace(text, @"\[([^\]]+)\]\([^)]*\)", "$1").Replace("`", "");

    // ---------------------------------------------------------------- about_ topic

    /// <summary>The classic about_*.help.txt layout: upper-case headings at column 0, text indented by 4, code by 8.</summary>
    public static string ToAboutText(string markdown)
    {
        var sb = new StringBuilder();
        var inFence = false;
        foreach (var raw in markdown.Replace("\r\n", "\n").TrimEnd().Split('\n'))
        {
            var line = raw.TrimEnd();
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) { inFence = !inFence; continue; }
            if (inFence) { sb.Append(line.Length == 0 ? "" : "        " + line).Append('\n'); continue; }
            if (line.StartsWith("# ", StringComparison.Ordinal)) sb.Append("TOPIC\n    ").Append(line[2..].Trim()).Append('\n');
            else if (line.StartsWith("## ", StringComparison.Ordinal)) sb.Append(line[3..].Trim().ToUpperInvariant()).Append('\n');
            else if (line.StartsWith("### ", StringComparison.Ordinal))
            {
                var title = line[4..].Trim();
                sb.Append("  ").Append(title.ToUpperInvariant()).Append('\n');
            }
            else sb.Append(line.Length == 0 ? "" : "    " + line.Replace("`", "")).Append('\n');
        }
        return sb.ToString();
    }
}
