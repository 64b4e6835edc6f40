/**
 * The core's error sentences in Spanish: the upload path's (main/core/errors.ts) keyed by code,
 * the app service's (main/core/app-service/errors.ts) keyed by messageId, and the bridge's own
 * `network`. The English sentence comes from the core. `{name}` marks a parameter;
 * test/renderer/core-messages.test.ts requires one entry per code and id.
 */
export const errorsEs: Readonly<Record<string, string>> = {
  // main/core/errors.ts
  'link-invalid':
    'Esto no es un enlace de envío. Un enlace de envío tiene esta forma: https://portal.example/u/… Copie el enlace completo del correo electrónico.',
  'link-unknown':
    'Este enlace de envío no es válido. Compruebe que copió el enlace completo o pida uno nuevo al hospital.',
  'link-revoked':
    'El hospital anuló este enlace de envío. No se pierde nada de lo que ya se envió: pida un enlace nuevo al hospital y vuelva a hacer el envío para mandar el resto.',
  'link-expired':
    'Este enlace de envío ha caducado. No se pierde nada de lo que ya se envió: pida un enlace nuevo al hospital y vuelva a hacer el envío para mandar el resto.',
  'link-insecure':
    'El portal pidió a Ferry que enviara las imágenes a una dirección sin cifrar o inesperada, así que no se envió nada. Avise al hospital.',
  'portal-unreachable':
    'No se puede conectar con el portal del hospital. Compruebe la conexión a internet; cuando lo intente de nuevo, el envío sigue desde donde se detuvo.',
  'portal-busy':
    'El portal del hospital está ocupado o su archivo de imágenes no responde. No se perdió nada; inténtelo de nuevo dentro de unos minutos y el envío seguirá desde donde se detuvo.',
  'portal-protocol':
    'El portal del hospital respondió de una forma que esta versión de Ferry no entiende. Actualice Ferry o avise al hospital.',
  'policy-unknown':
    'El hospital pide un tipo de protección de la privacidad que esta versión de Ferry no conoce, así que no se envió nada. Actualice Ferry.',
  'deid-unavailable':
    'El hospital pide quitar de las imágenes los nombres y otros datos personales antes de enviarlas, y esta copia de Ferry todavía no puede hacerlo, así que no se envió nada.',
  'over-limit':
    'Esto es más de lo que el hospital acepta con este enlace. Elija menos estudios o pida al hospital un enlace con un límite mayor.',
  'instance-too-large':
    'Una imagen es más grande de lo que el portal del hospital acepta de una sola vez, así que no se puede enviar con este enlace. Avise al hospital.',
  'nothing-selected': 'No hay imágenes elegidas, así que no hay nada que enviar.',
  'transfer-closed':
    'El portal cerró este envío. Vuelva a hacer el envío: Ferry empieza uno nuevo y manda solo lo que falta.',
  'transfer-not-found':
    'El portal no reconoce este envío para este enlace. Vuelva a hacer el envío: Ferry empieza uno nuevo y manda solo lo que falta.',
  'transfer-incomplete':
    'El portal todavía no tiene todas las imágenes. Vuelva a hacer el envío: Ferry manda solo lo que falta.',
  'instance-refused': 'El portal rechazó esta imagen; no se guardó.',
  'instance-conflict':
    'El portal ya tiene otra imagen distinta con el mismo identificador, así que esta no se guardó. Avise al hospital.',
  'instance-not-authorized':
    'Esta imagen no corresponde a lo que acepta este enlace (otro estudio u otro paciente), así que no se guardó.',
  'instance-unreadable':
    'Esta imagen no se pudo leer del disco, así que no se envió. Puede que el disco esté rayado.',
  'instance-changed':
    'Esta imagen no es la misma que se revisó antes de empezar el envío (el archivo cambió), así que no se envió.',
  'retries-exhausted':
    'El envío falló varias veces seguidas y se detuvo. No se pierde nada de lo que ya se envió: inténtelo más tarde y seguirá desde donde se detuvo.',
  'journal-key':
    'Ferry no puede leer su registro de este envío con la clave que tiene (la clave cambió o el registro está dañado). Borre el registro para empezar este envío desde el principio.',
  'journal-busy': 'Este envío ya está en marcha en otra ventana u orden de Ferry.',
  cancelled: 'Se canceló el envío. Vuelva a hacerlo para seguir desde donde se detuvo.',
  internal: 'Algo salió mal dentro de Ferry. No se pierde nada de lo que ya se envió.',

  // main/core/app-service/errors.ts
  'links-unavailable':
    'Abrir enlaces de envío todavía no está disponible en esta versión de Ferry.',
  'folder-dialog-unavailable':
    'Elegir una carpeta en una ventana todavía no está disponible en esta versión de Ferry.',
  'eject-unavailable': 'Expulsar el disco todavía no está disponible en esta versión de Ferry.',
  'preview-unavailable':
    'La vista previa de antes y después todavía no está disponible en esta versión de Ferry.',
  'upload-unavailable': 'Enviar imágenes todavía no está disponible en esta versión de Ferry.',
  'status-unavailable':
    'Ver el estado del envío todavía no está disponible en esta versión de Ferry.',
  'no-link': 'Primero abra su enlace de envío.',
  'scan-outdated': 'Vuelva a leer el disco o la carpeta: esta lista ya no está al día.',
  'study-not-on-disc': 'Uno de los estudios elegidos no está en este disco.',
  'no-study-chosen': 'Elija al menos un estudio.',
  'path-not-absolute':
    'Escriba la ruta completa de la carpeta o la unidad, por ejemplo /media/cdrom o D:\\.',
  'path-not-found': 'No hay ninguna carpeta ni unidad en esta ruta.',
  'path-not-readable': 'Ferry no tiene permiso para leer esta carpeta.',
  'scan-stopped': 'Se dejó de leer.',
  'file-not-on-disc': 'Este archivo no está en el disco.',
  'file-unreadable': 'Este archivo no se puede leer ({code}).',
  'not-sent': 'Este archivo no se envía: {reason}.',
  'mask-no-image':
    'Ferry no puede leer ninguna imagen de esta serie, así que no se puede tapar nada en ella.',
  'mask-outside':
    'Cada rectángulo que tapa debe quedar dentro de la imagen ({columns} x {rows} píxeles).',
  'sent-as-is': 'Con este enlace, los archivos se envían tal como están.',
  'drive-gone': 'Esta unidad ya no está.',
  'eject-failed':
    'Ferry no pudo expulsar esta unidad. Cierre las ventanas que muestren sus archivos e inténtelo de nuevo, o expúlsela desde el ordenador.',
  'image-not-on-disc': 'Esta imagen no está en el disco que se leyó.',
  'series-not-on-disc': 'Esta serie no está en el disco que se leyó.',
  'upload-running': 'Ya hay un envío en marcha.',
  'reset-while-sending':
    'Todavía se están enviando imágenes. Espere a que termine el envío o deténgalo primero.',
  'identity-unconfirmed':
    'Algunas de las imágenes elegidas pueden ser de otra persona. Confirme que son de la persona para la que se creó el enlace, o déjelas fuera.',
  'burned-in-unconfirmed':
    'Algunas de las imágenes elegidas ({count}) pueden mostrar un nombre dentro de la propia imagen, y la anonimización no puede quitarlo. No se envió nada. Mírelas en la vista previa y confírmelo, o deje fuera sus estudios.',
  'nothing-sendable':
    'Ninguna de las imágenes elegidas se puede enviar: están dañadas o no se pueden leer (vea lo que Ferry notó en el disco).',
  'no-upload': 'Este envío ya no está en marcha.',
  'nothing-sent-yet': 'Todavía no se ha enviado nada con este enlace.',
  stopped: 'Detenido.',
  unexpected: 'Algo salió mal dentro de Ferry. Inténtelo de nuevo; si sigue pasando, pida ayuda.',

  // renderer/transport/ws-bridge.ts
  network: 'Se perdió la conexión con Ferry.',
};
