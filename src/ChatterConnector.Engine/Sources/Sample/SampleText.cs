using System;
using System.Collections.Generic;
using System.Text;

namespace ChatterConnector.Engine.Sources.Sample
{
    /// <summary>Names, words and bodies for the sample org: realistic, multilingual, and awkward on purpose.</summary>
    internal static class SampleText
    {
        // (display, ASCII-folded lowercase) pairs.
        public static readonly (string Name, string Ascii)[] FirstNames =
        {
            ("Zoë", "zoe"), ("José", "jose"), ("Søren", "soren"), ("Anna", "anna"), ("Mohammed", "mohammed"),
            ("Chloé", "chloe"), ("Björn", "bjorn"), ("Łukasz", "lukasz"), ("François", "francois"), ("Jürgen", "jurgen"),
            ("Aoife", "aoife"), ("Priya", "priya"), ("Mateus", "mateus"), ("Olga", "olga"), ("Emma", "emma"),
            ("Liam", "liam"), ("Noah", "noah"), ("Sofía", "sofia"), ("Inès", "ines"), ("Kenji", "kenji"),
            ("Fatima", "fatima"), ("Ngozi", "ngozi"), ("Siobhán", "siobhan"), ("Ólafur", "olafur"), ("Dmitri", "dmitri"),
            ("Hana", "hana"), ("Thảo", "thao"), ("Elif", "elif"), ("Marek", "marek"), ("Ana-María", "ana-maria"),
            ("Grace", "grace"), ("Oliver", "oliver"), ("Amélie", "amelie"), ("Rafał", "rafal"), ("Zeynep", "zeynep"),
            ("Tomás", "tomas"), ("Ingrid", "ingrid"), ("Yusuf", "yusuf"), ("Mei", "mei"), ("Lars", "lars"),
        };

        public static readonly (string Name, string Ascii)[] LastNames =
        {
            ("Łukasiewicz", "lukasiewicz"), ("Núñez", "nunez"), ("Kierkegaard", "kierkegaard"), ("Müller", "muller"),
            ("García", "garcia"), ("O'Brien", "obrien"), ("Smith", "smith"), ("Nguyễn", "nguyen"), ("Dubois", "dubois"),
            ("Kowalski", "kowalski"), ("Andersson", "andersson"), ("Rossi", "rossi"), ("Yılmaz", "yilmaz"),
            ("Novák", "novak"), ("Fernández", "fernandez"), ("Patel", "patel"), ("Tanaka", "tanaka"), ("Okafor", "okafor"),
            ("Brontë", "bronte"), ("van der Berg", "vanderberg"), ("Johansson", "johansson"), ("Čapek", "capek"),
            ("Ferreira", "ferreira"), ("Schäfer", "schafer"), ("Ó Súilleabháin", "osuilleabhain"), ("Jensen", "jensen"),
            ("Lefèvre", "lefevre"), ("Kim", "kim"), ("Ahmed", "ahmed"), ("Wójcik", "wojcik"),
        };

        /// <summary>Whole names written without a first/last split.</summary>
        public static readonly (string Name, string Ascii)[] WholeNames =
        {
            ("李雷", "li.lei"), ("韩梅梅", "han.meimei"), ("王芳", "wang.fang"), ("佐藤 花子", "hanako.sato"), ("김민준", "minjun.kim"),
        };

        public static readonly string[] GroupNames =
        {
            "All Contoso", "Sales, EMEA & APAC", "Engineering \"Platform\" Team", "Café Lovers ☕", "Projekt Übersicht",
            "Customer Success", "Marketing <Launch> 2024", "HR & People", "Finance", "Support – Tier 2",
        };

        public static readonly string[] Words =
        {
            "forecast", "pipeline", "customer", "renewal", "quarter", "roadmap", "launch", "budget", "meeting", "deadline",
            "release", "feedback", "design", "contract", "proposal", "invoice", "workshop", "offsite", "dashboard", "report",
            "migration", "onboarding", "review", "sprint", "demo", "partner", "account", "ticket", "escalation", "summary",
            "agenda", "schedule", "update", "milestone", "strategy", "team", "project", "training", "survey", "plan",
        };

        private static readonly string[] Openers =
        {
            "Quick update on the", "Has anyone seen the latest", "Reminder: please review the", "Great job on the",
            "We need input on the", "FYI, I moved the", "Can someone explain the", "Thanks everyone for the",
            "Heads-up about the", "Draft of the", "Where do we stand with the", "Kudos to the team for the",
        };

        private static readonly string[] Closers =
        {
            "Thanks!", "Let me know what you think.", "See you tomorrow.", "More details to follow.", "Cheers,",
            "Questions welcome.", "Please reply by Friday.", "🎉", "Merci beaucoup !", "Danke schön.", "¡Gracias!", "ありがとう",
        };

        private static readonly string[] Tricky =
        {
            "Numbers: 1,234.56 and 7,890 – not one field, but several commas, right?",
            "He said \"ship it\", then left.",
            "She wrote: \"\"quoted twice\"\" on purpose.",
            "Line one\nLine two\nLine three",
            "A paragraph.\n\nAnother paragraph after a blank line.",
            "Plain text with <b>angle brackets</b> & an ampersand that must stay literal.",
            "Naïve café façade, coöperate, résumé.",
            "Emoji test: 👍🏽 🚀 ❤️ — and a surrogate pair 𝄞.",
            "Path-like: C:\\Users\\zoe\\Desktop\\notes.txt and /etc/passwd",
            "Trailing spaces and tabs\t here   ",
            "=SUM(A1:A9) should not become a formula",
            "Ünïcödé: Ελληνικά, Русский, עברית, العربية, 中文, 日本語, 한국어.",
        };

        private static readonly string[] Hostile =
        {
            "<script>alert(1)</script>",
            "<p onclick=\"alert('click')\">Click me for a prize</p>",
            "<p><a href=\"javascript:alert(document.cookie)\">totally safe link</a></p>",
            "<img src=\"x\" onerror=\"alert(2)\">",
            "<iframe src=\"https://evil.example/\"></iframe>",
            "<style>body { display: none }</style>",
        };

        public static readonly string[] Extensions = { "txt", "pdf", "png", "docx", "csv", "xlsx", "jpg", "pptx", "zip" };

        public static string Sentence(SampleRandom rng)
        {
            var sb = new StringBuilder();
            sb.Append(rng.Pick(Openers)).Append(' ').Append(rng.Pick(Words)).Append(' ').Append(rng.Pick(Words));
            sb.Append(rng.Chance(300) ? ", " + rng.Pick(Words) + " and " + rng.Pick(Words) : "");
            sb.Append(rng.Chance(250) ? "?" : ".");
            return sb.ToString();
        }

        /// <summary>A plain-text body; tricky content (commas, quotes, newlines, non-ASCII) often.</summary>
        public static string PlainBody(SampleRandom rng, string? mention, bool tricky)
        {
            var sb = new StringBuilder();
            if (mention != null && rng.Chance(500)) sb.Append('@').Append(mention).Append(' ');
            sb.Append(Sentence(rng));
            var extra = rng.Next(3);
            for (var i = 0; i < extra; i++) sb.Append(' ').Append(Sentence(rng));
            if (tricky || rng.Chance(250)) sb.Append(rng.Chance(500) ? "\n" : " ").Append(rng.Pick(Tricky));
            if (mention != null && !sb.ToString().Contains("@" + mention)) sb.Append(" cc @").Append(mention);
            if (rng.Chance(400)) sb.Append(' ').Append(rng.Pick(Closers));
            if (rng.Chance(8)) AppendLong(sb, rng, false);
            return sb.ToString();
        }

        /// <summary>A rich-text body (Salesforce's HTML subset), with hostile markup when asked.</summary>
        public static string RichBody(SampleRandom rng, string? mention, bool hostile)
        {
            var sb = new StringBuilder();
            sb.Append("<p>");
            if (mention != null) sb.Append('@').Append(Html(mention)).Append(' ');
            sb.Append(Html(rng.Pick(Openers))).Append(" <b>").Append(rng.Pick(Words)).Append("</b> ")
              .Append("<i>").Append(rng.Pick(Words)).Append("</i>.</p>");
            if (rng.Chance(500))
            {
                sb.Append("<ul>");
                var n = rng.Between(2, 4);
                for (var i = 0; i < n; i++) sb.Append("<li>").Append(Html(Sentence(rng))).Append("</li>");
                sb.Append("</ul>");
            }
            if (rng.Chance(400))
                sb.Append("<p>See <a href=\"https://www.contoso.com/wiki/").Append(rng.Pick(Words))
                  .Append("?a=1&amp;b=2\">the ").Append(rng.Pick(Words)).Append(" page</a>.</p>");
            if (rng.Chance(300)) sb.Append("<p>").Append(Html(rng.Pick(Tricky))).Append("</p>");
            if (hostile)
            {
                sb.Append(Hostile[0]);
                sb.Append(Hostile[1 + rng.Next(Hostile.Length - 1)]);
            }
            if (rng.Chance(300)) sb.Append("<p>").Append(Html(rng.Pick(Closers))).Append("</p>");
            if (rng.Chance(8)) AppendLong(sb, rng, true);
            return sb.ToString();
        }

        public static string CommentBody(SampleRandom rng, string? mention, bool rich)
        {
            string text;
            switch (rng.Next(6))
            {
                case 0: text = "+1"; break;
                case 1: text = "Thanks, " + rng.Pick(Words) + " looks good."; break;
                case 2: text = rng.Pick(Tricky); break;
                default: text = Sentence(rng); break;
            }
            if (mention != null) text = "@" + mention + " " + text;
            return rich ? "<p>" + Html(text) + "</p>" + (rng.Chance(300) ? "<p><b>" + rng.Pick(Words) + "</b></p>" : "") : text;
        }

        public static string MessageBody(SampleRandom rng)
        {
            switch (rng.Next(5))
            {
                case 0: return "Hi! Do you have a minute?";
                case 1: return rng.Pick(Tricky);
                case 2: return Sentence(rng) + "\n" + rng.Pick(Closers);
                default: return Sentence(rng);
            }
        }

        public static string Html(string text) =>
            text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;").Replace("\n", "<br>");

        private static void AppendLong(StringBuilder sb, SampleRandom rng, bool rich)
        {
            // Long bodies, still under the 10,000-character limit.
            var target = sb.Length + rng.Between(3000, 8500);
            while (sb.Length < target)
            {
                var s = Sentence(rng);
                if (rich) sb.Append("<p>").Append(Html(s)).Append("</p>");
                else sb.Append('\n').Append(s);
            }
        }
    }
}
