using System.Text;
using Xunit;

namespace ChatterConnector.Engine.Tests.Conversion;

/// <summary>
/// Golden files: compared byte for byte with the copy in the output folder. Set
/// CHATTER_UPDATE_GOLDEN=1 to (re)write them into the source folder
/// (tests/ChatterConnector.Engine.Tests/Golden), then rebuild and review the diff.
/// </summary>
internal static class Golden
{
    public static bool Updating => Environment.GetEnvironmentVariable("CHATTER_UPDATE_GOLDEN") == "1";

    public static void Check(string fileName, byte[] actual)
    {
        if (Updating)
        {
            var target = Path.Combine(SourceFolder(), fileName);
            File.WriteAllBytes(target, actual);
            return;
        }
        var path = Path.Combine(AppContext.BaseDirectory, "Golden", fileName);
        Assert.True(File.Exists(path), $"Golden file {fileName} is missing; run the tests with CHATTER_UPDATE_GOLDEN=1 to create it.");
        var expected = File.ReadAllBytes(path);
        if (!expected.AsSpan().SequenceEqual(actual))
        {
            // Show the first differing line for a readable failure.
            var e = Encoding.UTF8.GetString(expected).Split("\r\n");
            var a = Encoding.UTF8.GetString(actual).Split("\r\n");
            int i = 0;
            while (i < e.Length && i < a.Length && e[i] == a[i]) i++;
            Assert.Fail($"{fileName} differs from the golden file at line {i + 1}:\n expected: {(i < e.Length ? e[i] : "<end>")}\n actual:   {(i < a.Length ? a[i] : "<end>")}\n(set CHATTER_UPDATE_GOLDEN=1 to accept the new output)");
        }
    }

    private static string SourceFolder()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "ChatterConnector.sln"))) dir = dir.Parent;
        if (dir == null) throw new InvalidOperationException("ChatterConnector.sln not found above " + AppContext.BaseDirectory);
        var folder = Path.Combine(dir.FullName, "tests", "ChatterConnector.Engine.Tests", "Golden");
        Directory.CreateDirectory(folder);
        return folder;
    }
}
