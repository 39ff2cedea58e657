namespace Branchgate.Appliance.Runtime;

/// <summary>A step of applying the desired state failed; the message names the step and the kernel's answer.</summary>
public sealed class ApplyException : Exception
{
    public ApplyException(string message)
        : base(message)
    {
    }

    public ApplyException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public ApplyException()
    {
    }
}
