/** Errno values the Wi-Fi driver returns (Linux values), from the kernel's table. */
export { EALREADY, ECONNREFUSED, ENETDOWN, ENOTCONN, EOPNOTSUPP, ERFKILL } from '../../../kernel/errno.js';
