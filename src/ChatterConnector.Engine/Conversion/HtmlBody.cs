using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using Ganss.Xss;

namespace ChatterConnector.Engine.Conversion
{
    /// <summary>Sanitizes Chatter rich text and turns HTML into plain text; a new parser and sanitizer per call, so it is thread-safe.</summary>
    internal static class HtmlBody
    {
        private static readonly string[] AllowedTags =
        {
            "p", "b", "i", "u", "strong", "em", "ul", "ol", "li", "a", "br", "code", "pre", "blockquote",
        };

        /// <summary>Elements removed together with their content (everything else not allowed is unwrapped, its text kept).</summary>
        private static readonly HashSet<string> DroppedWithContent = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript", "noembed",
            "noframes", "template", "textarea", "select", "svg", "math", "head", "title", "xmp", "plaintext",
            "link", "meta", "base", "form", "input", "button", "img", "video", "audio", "canvas",
        };

        private static readonly HashSet<string> BlockTags = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "p", "div", "ul", "ol", "li", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr", "section", "article", "header", "footer",
        };

        /// <summary>Sanitized HTML of a rich-text body, and its plain text.</summary>
        public static (string Html, string Text) Sanitize(string html)
        {
            var parser = new HtmlParser();
            var document = parser.ParseDocument("<!doctype html><html><body>" + html);
            var body = document.Body!;

            foreach (var element in body.QuerySelectorAll("*").ToList())
            {
                if (DroppedWithContent.Contains(element.LocalName)) element.Remove();
            }

            var sanitizer = CreateSanitizer();
            sanitizer.SanitizeDom(document, body, "");

            // Give links a visible target (the sanitizer left only http, https and mailto hrefs).
            string sanitized = body.InnerHtml;
            string text = ToText(body);
            return (sanitized, text);
        }

        private static HtmlSanitizer CreateSanitizer()
        {
            var options = new HtmlSanitizerOptions
            {
                AllowedTags = new HashSet<string>(AllowedTags, StringComparer.OrdinalIgnoreCase),
                AllowedAttributes = new HashSet<string>(new[] { "href" }, StringComparer.OrdinalIgnoreCase),
                AllowedSchemes = new HashSet<string>(new[] { "http", "https", "mailto" }, StringComparer.OrdinalIgnoreCase),
                UriAttributes = new HashSet<string>(new[] { "href" }, StringComparer.OrdinalIgnoreCase),
                AllowedCssProperties = new HashSet<string>(StringComparer.OrdinalIgnoreCase),
                AllowedAtRules = new HashSet<AngleSharp.Css.Dom.CssRuleType>(),
                AllowedClasses = new HashSet<string>(StringComparer.OrdinalIgnoreCase),
            };
            return new HtmlSanitizer(options)
            {
                KeepChildNodes = true,
                AllowDataAttributes = false,
            };
        }

        /// <summary>Plain text of an HTML fragment: paragraphs and line breaks kept, list items as "- ", links as "text &lt;url&gt;".</summary>
        public static string ToText(INode root)
        {
            var w = new TextWriter();
            Walk(root, w, pre: false);
            return w.ToString();
        }

        private static void Walk(INode node, TextWriter w, bool pre)
        {
            foreach (var child in node.ChildNodes)
            {
                switch (child)
                {
                    case IText t:
                        w.Text(t.Data, pre);
                        break;
                    case IElement e:
                        string tag = e.LocalName;
                        if (tag == "br") { w.LineBreak(); break; }
                        bool block = BlockTags.Contains(tag);
                        if (block) w.BlockBreak(tag == "li" || tag == "tr" ? 1 : 2);
                        if (tag == "li") w.Raw("- ");
                        bool isPre = pre || tag == "pre";
                        Walk(e, w, isPre);
                        if (tag == "a")
                        {
                            string? href = e.GetAttribute("href");
                            string inner = e.TextContent.Trim();
                            if (!string.IsNullOrEmpty(href) && !string.Equals(href, inner, StringComparison.Ordinal)
                                && !string.Equals("mailto:" + inner, href, StringComparison.OrdinalIgnoreCase))
                                w.Raw(" <" + href + ">");
                        }
                        if (block) w.BlockBreak(tag == "li" || tag == "tr" ? 1 : 2);
                        break;
                }
            }
        }

        /// <summary>Builds text with collapsed white space and at most one blank line between blocks.</summary>
        private sealed class TextWriter
        {
            private readonly StringBuilder sb = new StringBuilder();
            private int pendingBreaks;   // newlines wanted before the next text
            private bool pendingSpace;

            public void Text(string data, bool pre)
            {
                if (pre)
                {
                    string normalized = data.Replace("\r\n", "\n").Replace('\r', '\n');
                    foreach (char c in normalized)
                    {
                        if (c == '\n') { Flush(); sb.Append('\n'); }
                        else Raw(c.ToString());
                    }
                    return;
                }
                foreach (char c in data)
                {
                    if (char.IsWhiteSpace(c)) { if (sb.Length > 0 || pendingBreaks > 0) pendingSpace = true; }
                    else Raw(c.ToString());
                }
            }

            public void Raw(string s)
            {
                Flush();
                sb.Append(s);
            }

            private void Flush()
            {
                if (pendingBreaks > 0)
                {
                    if (sb.Length > 0)
                    {
                        int have = TrailingNewlines();
                        for (int i = have; i < pendingBreaks; i++) sb.Append('\n');
                    }
                    pendingBreaks = 0;
                    pendingSpace = false;
                }
                else if (pendingSpace)
                {
                    if (sb.Length > 0 && sb[sb.Length - 1] != '\n') sb.Append(' ');
                    pendingSpace = false;
                }
            }

            public void LineBreak()
            {
                pendingSpace = false;
                if (pendingBreaks > 0) Flush();
                sb.Append('\n');
            }

            public void BlockBreak(int lines)
            {
                if (lines > pendingBreaks) pendingBreaks = lines;
            }

            private int TrailingNewlines()
            {
                int n = 0;
                for (int i = sb.Length - 1; i >= 0 && sb[i] == '\n'; i--) n++;
                return n;
            }

            public override string ToString() => sb.ToString().Trim('\n', ' ');
        }
    }
}
