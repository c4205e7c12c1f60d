import http from 'node:http';
import https from 'node:https';

/**
 * A fetch for tests that talk https to a server whose certificate comes from a test CA. Node 20's
 * built-in fetch cannot be given a CA (undici's Agent is not exposed, and NODE_EXTRA_CA_CERTS is read
 * only at process start), so this implements the small part of fetch the tests use over node:https:
 * never follows redirects (like redirect: 'manual'), keeps repeated Set-Cookie headers, and can bind a
 * local address (127.0.0.2 to look like another client on the loopback network).
 */
export interface TlsFetchOptions {
  /** PEM of the CA that signed the server's certificate. */
  ca: string;
  /** Source address of the connection (default: chosen by the kernel). */
  localAddress?: string;
  /** Called with every response, before its body is read (tests record Location and Set-Cookie). */
  onResponse?: (url: URL, response: Response) => void;
}

export function tlsFetch(options: TlsFetchOptions): typeof fetch {
  const httpsAgent = new https.Agent({ ca: options.ca, keepAlive: false });
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    request.headers.forEach((value, key) => {
      headers[key] = value;
    });
    if (body) headers['content-length'] = String(body.length);
    const transport = url.protocol === 'https:' ? https : http;
    const response = await new Promise<Response>((resolve, reject) => {
      const req = transport.request(
        url,
        {
          method: request.method,
          headers,
          family: 4,
          ...(url.protocol === 'https:' ? { agent: httpsAgent } : {}),
          ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const responseHeaders = new Headers();
            const raw = res.rawHeaders;
            for (let i = 0; i < raw.length; i += 2) responseHeaders.append(raw[i]!, raw[i + 1]!);
            const status = res.statusCode ?? 0;
            const nullBody = status === 204 || status === 304 || request.method === 'HEAD';
            resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: responseHeaders }));
          });
        },
      );
      req.on('error', reject);
      if (request.signal) request.signal.addEventListener('abort', () => req.destroy(new Error('aborted')), { once: true });
      req.end(body);
    });
    options.onResponse?.(url, response);
    return response;
  };
}
