package io.urunc.image;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

/**
 * Decodes metadata values the way urunc's image tools write them.
 * <ul>
 *   <li>{@code b64:<base64>} from any source: strict standard base64 (padding required, no whitespace), must
 *       decode to UTF-8; anything else is an error.</li>
 *   <li>OCI spec annotations otherwise: plain text (what {@code ctr run --annotation} and CRI pass).</li>
 *   <li>Image manifest annotations, container labels and urunc.json otherwise: bima, bunny and urunc 0.5-0.7
 *       store every value base64-encoded, later tools store plain text. A value that is strict base64 and
 *       decodes to UTF-8 text without control characters is taken decoded, else as it is. (Plain values
 *       like {@code qemu}, {@code true}, {@code hvt} or {@code /unikernel/app} are not valid base64 text.)</li>
 * </ul>
 */
final class ValueDecoder {
    static final String B64_PREFIX = "b64:";

    private ValueDecoder() {}

    /** The decoded value; throws IllegalArgumentException (message without the key) on a bad {@code b64:} value. */
    static String decode(String raw, MetadataSource source) {
        if (raw.startsWith(B64_PREFIX)) {
            return strictBase64Text(raw.substring(B64_PREFIX.length()))
                    .orElseThrow(() -> new IllegalArgumentException("value has the b64: prefix but is not valid base64 of UTF-8 text"));
        }
        if (source == MetadataSource.SPEC) return raw;
        return strictBase64Text(raw).filter(ValueDecoder::isPrintable).orElse(raw);
    }

    static Optional<String> strictBase64Text(String s) {
        if (s.isEmpty() || s.length() % 4 != 0) return s.isEmpty() ? Optional.of("") : Optional.empty();
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }

    private static boolean isPrintable(String s) {
        if (s.isEmpty()) return false;
        return s.codePoints().noneMatch(Character::isISOControl);
    }
}
