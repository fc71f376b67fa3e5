using System.Runtime.InteropServices;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.State;

namespace ChatterConnector.Engine.Tests.Salesforce;

public class SecretProtectorTests
{
    [Fact]
    public void AProtectedSecretComesBack()
    {
        using var t = new Temp();
        var p = SecretProtector.ForStore(t.Path);
        var s = p.Protect("s3cr3t-ünïcode");
        Assert.Equal(StoredSecret.ProtectedKind, s.Kind);
        Assert.DoesNotContain("s3cr3t", s.Value);
        Assert.Equal("s3cr3t-ünïcode", p.Reveal(s));
        // A new protector on the same store (another run) reads it too.
        Assert.Equal("s3cr3t-ünïcode", SecretProtector.ForStore(t.Path).Reveal(s));
    }

    [Fact]
    public void TheKeyFileSchemeRoundTripsWithARandomIv()
    {
        using var t = new Temp();
        var p = SecretProtector.ForStoreWithKeyFile(t.Path);
        var a = p.Protect("same");
        var b = p.Protect("same");
        Assert.StartsWith("v1:", a.Value);
        Assert.NotEqual(a.Value, b.Value);
        Assert.Equal("same", SecretProtector.ForStoreWithKeyFile(t.Path).Reveal(a));
        Assert.Equal("", p.Reveal(p.Protect("")));
        Assert.Equal(64, File.ReadAllBytes(p.KeyFilePath).Length);
    }

    [Fact]
    public void ATamperedBlobCannotBeDecrypted()
    {
        using var t = new Temp();
        var p = SecretProtector.ForStoreWithKeyFile(t.Path);
        var s = p.Protect("hello world");
        var bytes = Convert.FromBase64String(s.Value.Substring(3));
        bytes[20] ^= 1;
        var tampered = new StoredSecret { Kind = StoredSecret.ProtectedKind, Value = "v1:" + Convert.ToBase64String(bytes) };
        var e = Assert.Throws<ChatterException>(() => p.Reveal(tampered));
        Assert.Equal("ChatterSecret.CannotDecrypt", e.ErrorId);
        Assert.Contains("Set-ChatterConnector", e.Message);

        foreach (var bad in new[] { "v1:not base64!", "v1:AAAA", "zz:abc", "" })
            Assert.Equal("ChatterSecret.CannotDecrypt",
                Assert.Throws<ChatterException>(() => p.Reveal(new StoredSecret { Kind = StoredSecret.ProtectedKind, Value = bad })).ErrorId);
    }

    [Fact]
    public void ABlobFromAnotherStoreCannotBeDecrypted()
    {
        using var t1 = new Temp();
        using var t2 = new Temp();
        var s = SecretProtector.ForStoreWithKeyFile(t1.Path).Protect("x");
        var other = SecretProtector.ForStoreWithKeyFile(t2.Path);
        Assert.Equal("ChatterSecret.CannotDecrypt", Assert.Throws<ChatterException>(() => other.Reveal(s)).ErrorId); // no key file there
        other.Protect("y"); // now it has its own key
        Assert.Equal("ChatterSecret.CannotDecrypt", Assert.Throws<ChatterException>(() => other.Reveal(s)).ErrorId);
    }

    [Fact]
    public void TheKeyFileIsOnlyTheOwners()
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return;
        using var t = new Temp();
        var p = SecretProtector.ForStoreWithKeyFile(t.Path);
        p.Protect("x");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(p.KeyFilePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(p.KeyFilePath)!));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(p.KeyFilePath)!, "*.tmp"));
    }

    [Fact]
    public void AKeyFileOthersCanReadIsRefused()
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return;
        using var t = new Temp();
        var s = SecretProtector.ForStoreWithKeyFile(t.Path).Protect("x");
        var path = SecretProtector.ForStoreWithKeyFile(t.Path).KeyFilePath;
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var e = Assert.Throws<ChatterException>(() => SecretProtector.ForStoreWithKeyFile(t.Path).Reveal(s));
        Assert.Equal("ChatterStore.KeyFileExposed", e.ErrorId);
        Assert.Equal("ChatterStore.KeyFileExposed", Assert.Throws<ChatterException>(() => SecretProtector.ForStoreWithKeyFile(t.Path).Protect("y")).ErrorId);
    }

    [Fact]
    public void EnvironmentSecretsAreReadAtRunTime()
    {
        var name = "CC_TEST_SECRET_" + Guid.NewGuid().ToString("N")[..8];
        using var t = new Temp();
        var p = SecretProtector.ForStore(t.Path);
        var s = SecretProtector.FromEnvironment("$env:" + name);
        Assert.Equal(StoredSecret.EnvironmentKind, s.Kind);
        Assert.Equal(name, s.Value);
        var e = Assert.Throws<ChatterException>(() => p.Reveal(s));
        Assert.Equal("ChatterSecret.EnvironmentVariableMissing", e.ErrorId);
        Assert.Equal(name, e.Target);
        Environment.SetEnvironmentVariable(name, "from-env");
        try { Assert.Equal("from-env", p.Reveal(s)); }
        finally { Environment.SetEnvironmentVariable(name, null); }
        Assert.False(Directory.Exists(Path.Combine(t.Path, "keys"))); // no key needed for it
    }

    [Fact]
    public void ASharedStore_ProtectsSecretsWithTheKeyEveryWorkerIsGiven_AndSaysSoWhenItIsMissing()
    {
        var saved = Environment.GetEnvironmentVariable(SecretProtector.SharedKeyVariable);
        try
        {
            Environment.SetEnvironmentVariable(SecretProtector.SharedKeyVariable, null);
            var missing = Assert.Throws<ChatterException>(() => SecretProtector.ForSharedStore("https://a.blob.core.windows.net/c").Protect("s3cret"));
            Assert.Equal("ChatterStore.KeyMissing", missing.ErrorId);
            Assert.Contains(SecretProtector.SharedKeyVariable, missing.Message);

            Environment.SetEnvironmentVariable(SecretProtector.SharedKeyVariable, "not base64!");
            Assert.Equal("ChatterStore.KeyInvalid", Assert.Throws<ChatterException>(() => SecretProtector.ForSharedStore("u").Protect("x")).ErrorId);

            Environment.SetEnvironmentVariable(SecretProtector.SharedKeyVariable, Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
            var stored = SecretProtector.ForSharedStore("u").Protect("s3cret");
            Assert.StartsWith("s1:", stored.Value);
            Assert.DoesNotContain("s3cret", stored.Value);
            Assert.Equal("s3cret", SecretProtector.ForSharedStore("another worker").Reveal(stored));   // any worker with the key

            Environment.SetEnvironmentVariable(SecretProtector.SharedKeyVariable, Convert.ToBase64String(new byte[32]));
            Assert.Equal("ChatterSecret.CannotDecrypt", Assert.Throws<ChatterException>(() => SecretProtector.ForSharedStore("u").Reveal(stored)).ErrorId);
        }
        finally
        {
            Environment.SetEnvironmentVariable(SecretProtector.SharedKeyVariable, saved);
        }
    }
}
