using System.Text.RegularExpressions;
using Branchgate.Appliance.Users;

namespace Branchgate.Tests.Appliance.Users;

public class PasswordHasherTests
{
    [Fact]
    public void A_hash_is_a_PHC_string_with_the_OWASP_parameters_and_verifies_only_its_password()
    {
        var hash = PasswordHasher.Default.Hash("correct horse battery staple");
        Assert.Matches(new Regex(@"^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$"), hash);
        Assert.True(PasswordHasher.Verify("correct horse battery staple", hash));
        Assert.False(PasswordHasher.Verify("correct horse battery stapler", hash));
        Assert.False(PasswordHasher.Verify("", hash));
        Assert.NotEqual(hash, PasswordHasher.Default.Hash("correct horse battery staple"));
    }

    // A vector of libsodium's crypto_pwhash_argon2id_str_verify tests (test/default/pwhash_argon2id.c): it pins the
    // encoding and that NSec's memory size is in KiB.
    [Theory]
    [InlineData("", "$argon2id$v=19$m=4882,t=2,p=1$bA81arsiXysd3WbTRzmEOw$Nm8QBM+7RH1DXo9rvp5cwKEOOOfD2g6JuxlXihoNcpE")]
    public void A_libsodium_test_vector_verifies(string password, string phc)
    {
        Assert.True(PasswordHasher.Verify(password, phc));
        Assert.False(PasswordHasher.Verify(password + "x", phc));
    }

    [Fact]
    public void Any_change_to_the_stored_string_fails_verification()
    {
        var hasher = new PasswordHasher(1024, 1);
        var hash = hasher.Hash("Tr0ub4dor&3-long");
        Assert.True(PasswordHasher.Verify("Tr0ub4dor&3-long", hash));
        for (var i = 0; i < hash.Length; i++)
        {
            foreach (var replacement in new[] { 'A', 'z', '1', '$', ',', '=' })
            {
                if (hash[i] == replacement)
                {
                    continue;
                }

                var tampered = string.Concat(hash.AsSpan(0, i), replacement.ToString(), hash.AsSpan(i + 1));
                Assert.False(PasswordHasher.Verify("Tr0ub4dor&3-long", tampered), tampered);
            }
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("$")]
    [InlineData("$argon2id$")]
    [InlineData("$argon2i$v=19$m=4096,t=3,p=1$X1NhbHQAAAAAAAAAAAAAAA$bWh++MKN1OiFHKgIWTLvIi1iHicmHH7+Fv3K88ifFfI")]
    [InlineData("$argon2id$v=16$m=4096,t=3,p=1$X1NhbHQAAAAAAAAAAAAAAA$bWh++MKN1OiFHKgIWTLvIi1iHicmHH7+Fv3K88ifFfI")]
    [InlineData("$argon2id$v=19$m=4096,t=0,p=1$X1NhbHQAAAAAAAAAAAAAAA$bWh++MKN1OiFHKgIWTLvIi1iHicmHH7+Fv3K88ifFfI")]
    [InlineData("$argon2id$v=19$m=4096,t=1,p=2$X1NhbHQAAAAAAAAAAAAAAA$bWh++MKN1OiFHKgIWTLvIi1iHicmHH7+Fv3K88ifFfI")]
    [InlineData("$argon2id$v=19$m=99999999,t=1,p=1$X1NhbHQAAAAAAAAAAAAAAA$bWh++MKN1OiFHKgIWTLvIi1iHicmHH7+Fv3K88ifFfI")]
    [InlineData("$argon2id$v=19$m=4096,t=1000,p=1$X1NhbHQAAAAAAAAAAAAAAA$bWh++MKN1OiFHKgIWTLvIi1iHicmHH7+Fv3K88ifFfI")]
    [InlineData("$argon2id$v=19$m=04096,t=1,p=1$X1NhbHQAAAAAAAAAAAAAAA$bWh++MKN1OiFHKgIWTLvIi1iHicmHH7+Fv3K88ifFfI")]
    [InlineData("$argon2id$v=19$m=+4096,t=1,p=1$X1NhbHQAAAAAAAAAAAAAAA$bWh++MKN1OiFHKgIWTLvIi1iHicmHH7+Fv3K88ifFfI")]
    [InlineData("$argon2id$v=19$t=1,m=4096,p=1$X1NhbHQAAAAAAAAAAAAAAA$bWh++MKN1OiFHKgIWTLvIi1iHicmHH7+Fv3K88ifFfI")]
    [InlineData("$argon2id$v=19$m=4096,t=1,p=1$c29tZXNhbHQ$bWh++MKN1OiFHKgIWTLvIi1iHicmHH7+Fv3K88ifFfI")]
    [InlineData("$argon2id$v=19$m=4096,t=1,p=1$X1NhbHQAAAAAAAAAAAAAAA==$bWh++MKN1OiFHKgIWTLvIi1iHicmHH7+Fv3K88ifFfI")]
    [InlineData("$argon2id$v=19$m=4096,t=1,p=1$X1NhbHQAAAAAAAAAAAAAAA$bWh+")]
    [InlineData("$argon2id$v=19$m=4096,t=1,p=1$X1NhbHQAAAAAAAAAAAAAAA$bWh++MKN1OiFHKgIWTLvIi1iHicmHH7+Fv3K88ifFf!")]
    [InlineData("$argon2id$v=19$m=4096,t=1,p=1$X1NhbHQAAAAAAAAAAAAAAA$bWh++MKN1OiFHKgIWTLvIi1iHicmHH7+Fv3K88ifFfI$")]
    [InlineData("$argon2id$v=19$m=4096,t=1,p=1$X1NhbHQAAAAAAAAAAAAAAA")]
    public void A_malformed_string_is_refused_without_throwing(string? phc)
    {
        Assert.False(PasswordHasher.Verify("password", phc));
    }

    [Fact]
    public void Absurd_parameters_are_refused_at_construction()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PasswordHasher(0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PasswordHasher(1024, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PasswordHasher(10 * 1024 * 1024, 1));
    }
}
