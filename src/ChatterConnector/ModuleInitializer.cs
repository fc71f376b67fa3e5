using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.InteropServices;

namespace ChatterConnector.Commands
{
    /// <summary>
    /// Runs when the module is imported. An imported module has no deps.json, so the runtime would
    /// not find native SQLite under runtimes/&lt;rid&gt;/native: load the one for this process from there.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer
    {
        private static bool _done;

        public void OnImport()
        {
            if (_done) return;
            _done = true;
            var root = Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location) ?? "";
            var native = FindNativeSqlite(root);
            if (native == null) return; // a host with its own deps.json (a test project) finds it itself

            var isNetCore = !RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.Ordinal);
            if (isNetCore) RegisterResolver(native);
            else if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) LoadLibrary(native);
        }

        private static string? FindNativeSqlite(string root)
        {
            string os, file;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) { os = "win"; file = "e_sqlite3.dll"; }
            else if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX)) { os = "osx"; file = "libe_sqlite3.dylib"; }
            else { os = IsMusl() ? "linux-musl" : "linux"; file = "libe_sqlite3.so"; }
            var arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
            var path = Path.Combine(root, "runtimes", os + "-" + arch, "native", file);
            return File.Exists(path) ? path : null;
        }

        private static bool IsMusl()
        {
            try { return Directory.Exists("/lib") && Directory.GetFiles("/lib", "ld-musl-*").Length > 0; }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        }

        /// <summary>
        /// NativeLibrary.SetDllImportResolver for SQLitePCLRaw's provider, through reflection: the
        /// module is built for netstandard2.0, where that API is not visible at compile time.
        /// </summary>
        private static void RegisterResolver(string nativePath)
        {
            var nativeLibrary = Type.GetType("System.Runtime.InteropServices.NativeLibrary, System.Runtime.InteropServices", throwOnError: false)
                ?? typeof(object).Assembly.GetType("System.Runtime.InteropServices.NativeLibrary");
            var resolverType = Type.GetType("System.Runtime.InteropServices.DllImportResolver, System.Runtime.InteropServices", throwOnError: false)
                ?? typeof(object).Assembly.GetType("System.Runtime.InteropServices.DllImportResolver");
            if (nativeLibrary == null || resolverType == null) return;
            var load = nativeLibrary.GetMethod("Load", new[] { typeof(string) });
            var set = nativeLibrary.GetMethod("SetDllImportResolver");
            if (load == null || set == null) return;

            var handle = (IntPtr)load.Invoke(null, new object[] { nativePath })!;
            var resolver = new Resolver(handle);
            var callback = Delegate.CreateDelegate(resolverType, resolver, typeof(Resolver).GetMethod(nameof(Resolver.Resolve))!);
            var provider = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == "SQLitePCLRaw.provider.e_sqlite3")
                ?? Assembly.LoadFrom(Path.Combine(Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!, "SQLitePCLRaw.provider.e_sqlite3.dll"));
            try
            {
                set.Invoke(null, new object[] { provider, callback });
            }
            catch (TargetInvocationException ex) when (ex.InnerException is InvalidOperationException)
            {
                // A resolver is already set for the provider (the module was imported before): keep it.
            }
        }

        private sealed class Resolver
        {
            private readonly IntPtr _handle;
            public Resolver(IntPtr handle) => _handle = handle;

            public IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
                libraryName == "e_sqlite3" || libraryName == "libe_sqlite3" ? _handle : IntPtr.Zero;
        }

        [DllImport("kernel32", CharSet = CharSet.Unicode, SetLastError = true, EntryPoint = "LoadLibraryW")]
        private static extern IntPtr LoadLibraryNative(string path);

        private static void LoadLibrary(string path) => LoadLibraryNative(path);
    }
}
