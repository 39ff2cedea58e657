using QRCoder;

namespace Branchgate.WebUi.Features.Sites;

/// <summary>A QR code as a PNG data URI (the content security policy allows data: images), for a phone's WireGuard app.</summary>
public static class QrCode
{
    public static string PngDataUri(string text)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        using var png = new PngByteQRCode(data);
        return "data:image/png;base64," + Convert.ToBase64String(png.GetGraphic(6));
    }
}
