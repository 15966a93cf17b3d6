// Jackson's CBOR codec driven the way the AWS SDK for Java v2 drives it (test/kinesis/jackson.test.ts):
//   write: the Kinesis requests of java-cbor.ts, generated as the SDK's JSON protocol marshaller and
//          SdkCborGenerator generate them (writeStartObject, writeFieldName, writeString, writeBinary,
//          writeTag(1) + writeNumber(epoch millis)); prints one hex line per request.
//   read:  a GetRecords answer (hex in args[1]) read as the SDK's unmarshaller reads it: each record's
//          Data with getBinaryValue(), ApproximateArrivalTimestamp's text with Long.parseLong
//          (DateUtils.parseUnixTimestampMillisInstant); prints what it read as JSON.
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.fasterxml.jackson.dataformat.cbor.CBORGenerator;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

public class JacksonCbor {
    static final CBORFactory FACTORY = new CBORFactory();

    interface Body {
        void write(CBORGenerator g) throws Exception;
    }

    static String hex(Body body) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (CBORGenerator g = FACTORY.createGenerator(out)) {
            body.write(g);
        }
        return HexFormat.of().formatHex(out.toByteArray());
    }

    static void instant(CBORGenerator g, long millis) throws Exception {
        g.writeTag(1);
        g.writeNumber(millis);
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("write")) {
            long at = Long.parseLong(args[1]);
            System.out.println("PutRecord " + hex(g -> {
                g.writeStartObject();
                g.writeFieldName("StreamName"); g.writeString("orders");
                g.writeFieldName("Data"); g.writeBinary(new byte[] {0, 1, 2, (byte) 255});
                g.writeFieldName("PartitionKey"); g.writeString("user-1");
                g.writeEndObject();
            }));
            System.out.println("PutRecords " + hex(g -> {
                g.writeStartObject();
                g.writeFieldName("Records");
                g.writeStartArray();
                g.writeStartObject();
                g.writeFieldName("Data"); g.writeBinary("second".getBytes("UTF-8"));
                g.writeFieldName("PartitionKey"); g.writeString("user-1");
                g.writeEndObject();
                g.writeEndArray();
                g.writeFieldName("StreamName"); g.writeString("orders");
                g.writeEndObject();
            }));
            System.out.println("GetShardIterator " + hex(g -> {
                g.writeStartObject();
                g.writeFieldName("StreamName"); g.writeString("orders");
                g.writeFieldName("ShardId"); g.writeString("shardId-000000000000");
                g.writeFieldName("ShardIteratorType"); g.writeString("AT_TIMESTAMP");
                g.writeFieldName("Timestamp"); instant(g, at);
                g.writeEndObject();
            }));
            System.out.println("GetRecords " + hex(g -> {
                g.writeStartObject();
                g.writeFieldName("ShardIterator"); g.writeString("iterator");
                g.writeFieldName("Limit"); g.writeNumber(10000);
                g.writeEndObject();
            }));
            return;
        }
        // read
        byte[] bytes = HexFormat.of().parseHex(args[1]);
        List<String> records = new ArrayList<>();
        try (JsonParser p = FACTORY.createParser(bytes)) {
            String data = null;
            long at = -1;
            String field = null;
            int depth = 0;
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                switch (t) {
                    case START_OBJECT: case START_ARRAY: depth++; break;
                    case END_OBJECT:
                        depth--;
                        if (depth == 2 && data != null) {
                            records.add("{\"data\":\"" + data + "\",\"arrivalMillis\":" + at + "}");
                            data = null;
                            at = -1;
                        }
                        break;
                    case END_ARRAY: depth--; break;
                    case FIELD_NAME: field = p.getCurrentName(); break;
                    default:
                        if ("Data".equals(field)) data = Base64.getEncoder().encodeToString(p.getBinaryValue());
                        // The SDK's timestamp unmarshaller: the value's text, as a long, or it fails.
                        if ("ApproximateArrivalTimestamp".equals(field)) at = Long.parseLong(p.getText());
                }
            }
        }
        System.out.println("{\"records\":[" + String.join(",", records) + "]}");
    }
}
