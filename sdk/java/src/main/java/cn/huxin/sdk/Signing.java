package cn.huxin.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.EdECPrivateKeySpec;
import java.security.spec.NamedParameterSpec;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Hashes and signatures as the Rust core makes them, in either suite: ed25519 with the JDK's own
 * Ed25519 (a secret key is 64 hex digits), or SM2 with BouncyCastle's {@code SM2Signer} and the
 * standard default user id ({@code sm2:} and 64 hex digits, as in a Huxin key file; the public key
 * is the compressed point, 66 hex digits; a signature is r ‖ s).
 */
public final class Signing {
    private Signing() {}

    private static final String SM2_PREFIX = "sm2:";
    private static final org.bouncycastle.asn1.x9.X9ECParameters SM2_CURVE =
            org.bouncycastle.asn1.gm.GMNamedCurves.getByName("sm2p256v1");
    private static final org.bouncycastle.crypto.params.ECDomainParameters SM2_DOMAIN =
            new org.bouncycastle.crypto.params.ECDomainParameters(SM2_CURVE);
    private static final SecureRandom RANDOM = new SecureRandom();

    private static boolean isSm2(String secretKeyHex) {
        return secretKeyHex != null && secretKeyHex.startsWith(SM2_PREFIX);
    }

    /** An SM2 secret: a scalar in [1, n − 2] of the curve's order n, as the Rust core requires. */
    private static java.math.BigInteger sm2Scalar(String secretKeyHex) {
        String hex = secretKeyHex.substring(SM2_PREFIX.length());
        if (!hex.matches("[0-9a-f]{64}"))
            throw new EncodeException("secret_key", "expected 32 bytes as lowercase hex after sm2:");
        java.math.BigInteger d = new java.math.BigInteger(hex, 16);
        if (d.signum() <= 0 || d.compareTo(SM2_CURVE.getN().subtract(java.math.BigInteger.TWO)) > 0)
            throw new EncodeException("secret_key", "an SM2 secret key must be a scalar in [1, n - 2]");
        return d;
    }

    private static String sm2PublicKey(String secretKeyHex) {
        return Hex.encode(SM2_CURVE.getG().multiply(sm2Scalar(secretKeyHex)).normalize().getEncoded(true));
    }

    private static String sm2Sign(String secretKeyHex, byte[] message) {
        var signer = new org.bouncycastle.crypto.signers.SM2Signer(
                org.bouncycastle.crypto.signers.PlainDSAEncoding.INSTANCE);
        var key = new org.bouncycastle.crypto.params.ECPrivateKeyParameters(sm2Scalar(secretKeyHex), SM2_DOMAIN);
        signer.init(true, new org.bouncycastle.crypto.params.ParametersWithRandom(key, RANDOM));
        signer.update(message, 0, message.length);
        try {
            return Hex.encode(signer.generateSignature());
        } catch (org.bouncycastle.crypto.CryptoException e) {
            throw new IllegalStateException("SM2 signing failed", e);
        }
    }

    /** Whether {@code signatureHex} (r ‖ s) is an SM2 signature of {@code message} by {@code publicKeyHex} (compressed). */
    public static boolean sm2Verify(String publicKeyHex, byte[] message, String signatureHex) {
        try {
            var point = SM2_CURVE.getCurve().decodePoint(Hex.decode(publicKeyHex));
            var verifier = new org.bouncycastle.crypto.signers.SM2Signer(
                    org.bouncycastle.crypto.signers.PlainDSAEncoding.INSTANCE);
            verifier.init(false, new org.bouncycastle.crypto.params.ECPublicKeyParameters(point, SM2_DOMAIN));
            verifier.update(message, 0, message.length);
            return verifier.verifySignature(Hex.decode(signatureHex));
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** How the JDK takes a raw ed25519 public key: this X.509 prefix, then the 32 bytes. */
    private static final byte[] ED25519_X509_PREFIX = Hex.decode("302a300506032b6570032100");

    /**
     * Whether {@code signatureHex} is {@code publicKeyHex}'s signature of {@code signed} (what the
     * key signed: {@link #signingInput}), in the key's suite: ed25519 (64 hex digits) or SM2 (66).
     * False, never an exception, for anything malformed.
     */
    public static boolean verify(String publicKeyHex, byte[] signed, String signatureHex) {
        if (publicKeyHex == null || signatureHex == null || !signatureHex.matches("[0-9a-f]{128}")) return false;
        if (publicKeyHex.matches("0[23][0-9a-f]{64}")) return sm2Verify(publicKeyHex, signed, signatureHex);
        if (!publicKeyHex.matches("[0-9a-f]{64}")) return false;
        try {
            byte[] x509 = new byte[ED25519_X509_PREFIX.length + 32];
            System.arraycopy(ED25519_X509_PREFIX, 0, x509, 0, ED25519_X509_PREFIX.length);
            System.arraycopy(Hex.decode(publicKeyHex), 0, x509, ED25519_X509_PREFIX.length, 32);
            var key = KeyFactory.getInstance("Ed25519").generatePublic(new java.security.spec.X509EncodedKeySpec(x509));
            Signature verifier = Signature.getInstance("Ed25519");
            verifier.initVerify(key);
            verifier.update(signed);
            return verifier.verify(Hex.decode(signatureHex));
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    /** What a key signs for a domain: the tag, a zero byte, the message. */
    public static byte[] signingInput(String tag, byte[] message) {
        byte[] t = tag.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[t.length + 1 + message.length];
        System.arraycopy(t, 0, out, 0, t.length);
        System.arraycopy(message, 0, out, t.length + 1, message.length);
        return out;
    }

    private static byte[] seed(String secretKeyHex) {
        if (secretKeyHex == null || !secretKeyHex.matches("[0-9a-f]{64}"))
            throw new EncodeException("secret_key", "expected 32 bytes as lowercase hex");
        return Hex.decode(secretKeyHex);
    }

    /** The public key of a secret key, hex: ed25519 (of its 32-byte seed) or SM2 (compressed). */
    public static String publicKey(String secretKeyHex) {
        if (isSm2(secretKeyHex)) return sm2PublicKey(secretKeyHex);
        byte[] seed = seed(secretKeyHex);
        try {
            // The JDK derives a key pair from the seed it draws: hand it this seed.
            KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
            generator.initialize(NamedParameterSpec.ED25519, new SecureRandom() {
                @Override
                public void nextBytes(byte[] bytes) {
                    System.arraycopy(seed, 0, bytes, 0, bytes.length);
                }
            });
            byte[] x509 = generator.generateKeyPair().getPublic().getEncoded();
            return Hex.encode(Arrays.copyOfRange(x509, x509.length - 32, x509.length));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no Ed25519", e);
        }
    }

    /** A signature of {@code message}, hex: ed25519 (RFC 8032), or SM2 over Z ‖ message (r ‖ s). */
    public static String sign(String secretKeyHex, byte[] message) {
        if (isSm2(secretKeyHex)) return sm2Sign(secretKeyHex, message);
        try {
            PrivateKey key = KeyFactory.getInstance("Ed25519")
                    .generatePrivate(new EdECPrivateKeySpec(NamedParameterSpec.ED25519, seed(secretKeyHex)));
            Signature signer = Signature.getInstance("Ed25519");
            signer.initSign(key);
            signer.update(message);
            return Hex.encode(signer.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no Ed25519", e);
        }
    }

    public static byte[] sha256(byte[]... parts) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) digest.update(p);
            return digest.digest();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    /** The canonical bytes of a transaction body (its JSON: chain_id, signer, nonce, expiry, action). */
    public static byte[] bodyBytes(JsonNode body) {
        return Codec.encode(Schemas.TX_BODY, body);
    }

    /** SM3 (GM/T 0004-2012) of the parts, in order. */
    public static byte[] sm3(byte[]... parts) {
        var digest = new org.bouncycastle.crypto.digests.SM3Digest();
        for (byte[] p : parts) digest.update(p, 0, p.length);
        byte[] out = new byte[digest.getDigestSize()];
        digest.doFinal(out, 0);
        return out;
    }

    /**
     * The hash of {@code huxin/v1/txhash} and the body's bytes, hex, in the signer's suite: SHA-256
     * for an ed25519 signer (64 hex digits), SM3 for an SM2 one (66).
     */
    public static String txHash(JsonNode body) {
        return hashTagged(body.path("signer").asText(), "huxin/v1/txhash", bodyBytes(body));
    }

    /**
     * The hash, hex, in the suite of the key {@code suiteKeyHex} (SHA-256 for ed25519, SM3 for
     * SM2), of the domain tag followed directly by {@code bytes}: how the core hashes what a key's
     * suite decides.
     */
    public static String hashTagged(String suiteKeyHex, String tag, byte[] bytes) {
        byte[] t = tag.getBytes(StandardCharsets.UTF_8);
        return Hex.encode(suiteKeyHex.length() == 66 ? sm3(t, bytes) : sha256(t, bytes));
    }

    /** A signed transaction as {@code POST /v1/txs} takes it, and its hash. */
    public record Signed(String payload, String publicKey, String signature, String txHash) {}

    /** Sign {@code body} with its signer's secret key. */
    public static Signed signTx(JsonNode body, String secretKeyHex) {
        String signer = publicKey(secretKeyHex);
        if (!signer.equals(body.path("signer").asText()))
            throw new EncodeException("signer", "the body's signer is " + body.path("signer").asText() + ", the key's " + signer);
        byte[] bytes = bodyBytes(body);
        String signature = sign(secretKeyHex, signingInput("huxin/v1/tx", bytes));
        return new Signed(Hex.encode(bytes), signer, signature, txHash(body));
    }

    /** The text a supervisor signs for a query to one node. */
    public static String queryMessage(String chainId, String nodeKey, String method, String path, String query, long timeMs) {
        return String.join("\n", chainId, nodeKey, method, path, query, Long.toString(timeMs));
    }

    /** The three headers of a signed query. */
    public static Map<String, String> signQuery(
            String secretKeyHex, String chainId, String nodeKey, String method, String path, String query, long timeMs) {
        byte[] message = queryMessage(chainId, nodeKey, method, path, query, timeMs).getBytes(StandardCharsets.UTF_8);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("x-huxin-key", publicKey(secretKeyHex));
        headers.put("x-huxin-signature", sign(secretKeyHex, signingInput("huxin/v1/query", message)));
        headers.put("x-huxin-time", Long.toString(timeMs));
        return headers;
    }
}
