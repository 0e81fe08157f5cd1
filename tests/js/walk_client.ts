// A user of the client generated from openapi/openapi.json (openapi-typescript types,
// openapi-fetch calls), type-checked against them: walks every page of a window across the
// four vendors, then reads every page of one conversation's messages per vendor. Talks to the
// gateway only through that client. Prints what it saw as one JSON line.
// Usage: node walk_client.js BASE_URL API_KEY SINCE UNTIL CUSTOMER_ID PAGE_SIZE
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Conversation = components["schemas"]["ConversationView"];
type Message = components["schemas"]["MessageView"];
type Vendor = components["schemas"]["Vendor"];

const [baseUrl, apiKey, since, until, customerId, pageSize] = process.argv.slice(2);
const VENDORS: Vendor[] = ["megaview", "gptbots", "udesk", "jijyun"];

const client = createClient<paths>({
  baseUrl,
  headers: { Authorization: `Bearer ${apiKey}` },
});

const pages: string[][] = [];
const conversations: Conversation[] = [];
let pageToken: string | undefined;
do {
  const { data, error, response } = await client.GET("/conversations", {
    params: {
      query: {
        since,
        until,
        vendor: VENDORS,
        customer_id: customerId,
        page_size: Number(pageSize),
        page_token: pageToken,
      },
    },
  });
  if (data === undefined) {
    throw new Error(`GET /conversations: ${response.status} ${JSON.stringify(error)}`);
  }
  const failed = data.sources.filter((source) => source.status !== "ok");
  if (failed.length > 0) {
    throw new Error(`sources did not answer: ${JSON.stringify(failed)}`);
  }
  pages.push(data.data.map((conversation) => conversation.id));
  conversations.push(...data.data);
  pageToken = data.next_page_token ?? undefined;
} while (pageToken !== undefined);

interface Read {
  conversation_id: string;
  message_conversation_ids: string[];
  sequences: number[];
}
const messages: Partial<Record<Vendor, Read>> = {};
for (const vendor of VENDORS) {
  for (const conversation of conversations.filter((c) => c.vendor === vendor)) {
    const read = await readMessages(conversation.id);
    if (read !== null && read.length > 0) {
      messages[vendor] = {
        conversation_id: conversation.id,
        message_conversation_ids: [...new Set(read.map((m) => m.conversation_id))],
        sequences: read.map((m) => m.sequence),
      };
      break;
    }
  }
}

console.log(JSON.stringify({ pages, messages }));

/** Every message of `id`, or null while the vendor is still making it (a 503 it documents). */
async function readMessages(id: string): Promise<Message[] | null> {
  const read: Message[] = [];
  let token: string | undefined;
  do {
    const { data, error, response } = await client.GET("/conversations/{id}/messages", {
      params: { path: { id }, query: { page_size: 20, page_token: token } },
    });
    if (data === undefined) {
      if (response.status === 503 && error?.code === "UPSTREAM_NOT_READY") {
        return null;
      }
      throw new Error(`messages of ${id}: ${response.status} ${JSON.stringify(error)}`);
    }
    read.push(...data.data);
    token = data.next_page_token ?? undefined;
  } while (token !== undefined);
  return read;
}
