package cn.huxin.sdk;

/** Lowercase hex, as the API writes keys, hashes and signatures. */
public final class Hex {
    private Hex() {}

    public static byte[] decode(String hex) {
        if (!hex.matches("([0-9a-f]{2})*")) throw new EncodeException("hex", "expected lowercase hex");
        byte[] out = new byte[hex.length() / 2];
        for (int i = 0; i < out.length; i++) out[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        return out;
    }

    public static String encode(byte[] bytes) {
        StringBuilder s = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) s.append(String.format("%02x", b & 0xff));
        return s.toString();
    }
}
