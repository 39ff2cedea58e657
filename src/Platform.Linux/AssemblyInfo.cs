using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Platform.Linux.Tests")]
