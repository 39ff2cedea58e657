using Branchgate.WebUi.Features.Sites;

namespace Branchgate.WebUi.Tests.Components;

public sealed class FieldErrorsTests
{
    [Fact]
    public void Details_are_sorted_by_the_field_they_name()
    {
        var errors = FieldErrors.From(
        [
            "allowedIps[0]: not a CIDR",
            "allowedIps[3]: has host bits set",
            "endpoint: the port is missing",
            "site wg0/b: allowed IPs overlap those of site wg0/c",
            "no colon at all",
        ]);

        Assert.Equal(["entry 1: not a CIDR", "entry 4: has host bits set"], errors.For("allowedIps"));
        Assert.Equal("the port is missing", errors.TextFor("endpoint"));
        Assert.Null(errors.TextFor("publicKey"));
        Assert.Equal(["site wg0/b: allowed IPs overlap those of site wg0/c", "no colon at all"], errors.General);
    }
}
