// One health probe for the components' /readyz and /healthz: true on 200, false on anything else,
// an error or 2 s without an answer. Health paths need no credentials; the serving certificates
// are self-signed, so HTTPS is not verified.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export async function answersOk(url: string): Promise<boolean> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = request(url, { rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(2000, () => req.destroy());
    req.end();
  });
}
