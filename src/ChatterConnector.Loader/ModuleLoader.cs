using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace ChatterConnector.Loader
{
    /// <summary>
    /// Called by ChatterConnector.psm1: loads the cmdlet assembly from &lt;module&gt;/dependencies and
    /// returns it for Import-Module -Assembly. On PowerShell 7 it goes into a load context of its own,
    /// with the engine and every library it uses; on Windows PowerShell (.NET Framework, which has no
    /// load contexts) the libraries are found in dependencies/ when the runtime asks for them.
    /// </summary>
    public static class ModuleLoader
    {
        private static readonly object Gate = new object();
        private static Assembly? _cmdlets, _engine;

        /// <summary>Loads the cmdlets (once per process: imported again, the same assembly) and returns them.</summary>
        public static Assembly Initialize(string moduleBase)
        {
            lock (Gate)
            {
                if (_cmdlets != null) return _cmdlets;
                var dependencies = Path.Combine(moduleBase, "dependencies");
                var cmdlets = Path.Combine(dependencies, "ChatterConnector.dll");
                (_cmdlets, _engine) = RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.Ordinal)
                    ? FrameworkLoader.Load(dependencies, cmdlets)
                    : CoreLoader.Load(dependencies, cmdlets);
                return _cmdlets;
            }
        }

        /// <summary>
        /// The engine, beside the cmdlets: imported as an assembly too, so that its types (connectors,
        /// runs, log entries) resolve by name in scripts, as [ChatterConnector.Engine.Model.ChatterImportRun].
        /// </summary>
        public static Assembly Engine
        {
            get { lock (Gate) return _engine ?? throw new InvalidOperationException("Initialize loads the engine first."); }
        }
    }

    /// <summary>PowerShell 7: a load context of the module's own (kept apart so that .NET Framework never touches the type).</summary>
    internal static class CoreLoader
    {
        public static (Assembly Cmdlets, Assembly Engine) Load(string dependencies, string cmdlets)
        {
            var context = new DependencyLoadContext(dependencies);
            return (context.LoadFromAssemblyPath(cmdlets), context.LoadFromAssemblyName(new AssemblyName("ChatterConnector.Engine")));
        }
    }

    /// <summary>
    /// Loads an assembly from dependencies/ when the module ships it, unless the runtime or the
    /// host already carries it (a trusted platform assembly: System.*, PowerShell's own) in the
    /// version asked for or a later one: that one is shared. So a host that already carries the
    /// engine (a test project) shares it too, while in pwsh the engine and its libraries are
    /// private to the module; and an older runtime (pwsh 7.4 on .NET 8) gets the module's newer
    /// copy of a library it also has, where the shared context would refuse the version.
    /// Native SQLite comes from dependencies/runtimes/&lt;rid&gt;/native.
    /// </summary>
    internal sealed class DependencyLoadContext : AssemblyLoadContext
    {
        private readonly string _folder;
        private readonly Dictionary<string, string> _platform = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        public DependencyLoadContext(string folder)
        {
            _folder = folder;
            var trusted = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "";
            foreach (var path in trusted.Split(Path.PathSeparator))
                if (path.Length > 0) _platform[Path.GetFileNameWithoutExtension(path)] = path;
        }

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            var name = assemblyName.Name ?? "";
            if (_platform.TryGetValue(name, out var platformPath) && IsAtLeast(platformPath, assemblyName.Version)) return null; // shared
            var path = Path.Combine(_folder, name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }

        private static bool IsAtLeast(string path, Version? wanted)
        {
            if (wanted == null) return true;
            try { return AssemblyName.GetAssemblyName(path).Version >= wanted; }
            catch (Exception e) when (e is IOException || e is BadImageFormatException || e is UnauthorizedAccessException) { return true; }
        }

        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
        {
            var path = NativeLibraries.Find(_folder, unmanagedDllName);
            return path == null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
        }
    }

    /// <summary>Windows PowerShell: the libraries are found in dependencies/ as the runtime asks for them.</summary>
    internal static class FrameworkLoader
    {
        public static (Assembly Cmdlets, Assembly Engine) Load(string dependencies, string cmdlets)
        {
            AppDomain.CurrentDomain.AssemblyResolve += (sender, args) =>
            {
                var name = new AssemblyName(args.Name).Name ?? "";
                var path = Path.Combine(dependencies, name + ".dll");
                return File.Exists(path) ? Assembly.LoadFrom(path) : null;
            };
            return (Assembly.LoadFrom(cmdlets), Assembly.Load(new AssemblyName("ChatterConnector.Engine")));
        }
    }

    /// <summary>Where the native SQLite of this process's platform is shipped.</summary>
    internal static class NativeLibraries
    {
        public static string? Find(string folder, string name)
        {
            if (name.IndexOf("e_sqlite3", StringComparison.OrdinalIgnoreCase) < 0) return null;
            string os, file;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) { os = "win"; file = "e_sqlite3.dll"; }
            else if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX)) { os = "osx"; file = "libe_sqlite3.dylib"; }
            else { os = IsMusl() ? "linux-musl" : "linux"; file = "libe_sqlite3.so"; }
            var arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
            var path = Path.Combine(folder, "runtimes", os + "-" + arch, "native", file);
            return File.Exists(path) ? path : null;
        }

        private static bool IsMusl()
        {
            try { return Directory.Exists("/lib") && Directory.GetFiles("/lib", "ld-musl-*").Length > 0; }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        }
    }
}
