using System;
using System.Collections.Generic;

namespace ChatterConnector.Engine.Sources.Sample
{
    /// <summary>
    /// SplitMix64: a tiny seeded generator whose sequence is fixed by its algorithm, not by the .NET
    /// version (System.Random's is not guaranteed). Integer arithmetic only, so results are the same
    /// on every platform.
    /// </summary>
    internal sealed class SampleRandom
    {
        private ulong _state;

        public SampleRandom(ulong seed) => _state = seed;

        /// <summary>A generator for an independent stream, derived from a seed and a stream number.</summary>
        public static SampleRandom For(long seed, ulong stream) =>
            new SampleRandom(Mix(unchecked((ulong)seed) ^ Mix(stream + 0x51ED2701UL)));

        public static ulong Mix(ulong z)
        {
            unchecked
            {
                z += 0x9E3779B97F4A7C15UL;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                return z ^ (z >> 31);
            }
        }

        public ulong NextUInt64()
        {
            unchecked
            {
                _state += 0x9E3779B97F4A7C15UL;
                var z = _state;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                return z ^ (z >> 31);
            }
        }

        /// <summary>0 ≤ result &lt; bound (bound ≥ 1).</summary>
        public int Next(int bound)
        {
            if (bound <= 1) return 0;
            return (int)(((NextUInt64() >> 32) * (ulong)bound) >> 32);
        }

        /// <summary>min ≤ result ≤ max.</summary>
        public int Between(int min, int max) => max <= min ? min : min + Next(max - min + 1);

        /// <summary>0 ≤ result &lt; bound (bound ≥ 1).</summary>
        public long NextLong(long bound) => bound <= 1 ? 0 : (long)(NextUInt64() % (ulong)bound);

        public long BetweenLong(long min, long max) => max <= min ? min : min + NextLong(max - min + 1);

        /// <summary>True with a probability of perMille / 1000.</summary>
        public bool Chance(int perMille) => Next(1000) < perMille;

        public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];
    }
}
