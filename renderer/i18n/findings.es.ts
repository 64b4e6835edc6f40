/**
 * The core's findings (main/core/findings.ts) in Spanish, keyed by their code; the English
 * sentence comes from the core. test/renderer/core-messages.test.ts requires one entry per code.
 */
export const findingsEs: Readonly<Record<string, string>> = {
  'unreadable-file':
    'Este archivo no se pudo leer del disco. Puede que el disco esté rayado o que la unidad tenga problemas para leerlo; no se enviará.',
  'unreadable-folder':
    'Esta carpeta no se pudo leer del disco, así que pueden faltar archivos que están dentro.',
  'truncated-file':
    'Este archivo de imagen está incompleto: termina antes de tener todos sus datos. Probablemente se cortó al grabar el disco; no se enviará.',
  'malformed-file':
    'Este archivo parece una imagen médica, pero su contenido está dañado y no se puede leer; no se enviará.',
  'empty-file': 'Este archivo está vacío. No hay nada en él que enviar.',
  'no-file-meta':
    'Esta imagen está en un formato antiguo, sin la cabecera de archivo estándar. Aun así, se puede enviar.',
  'not-dicom':
    'Este archivo no es una imagen médica (por ejemplo, un programa para ver imágenes o un documento).',
  'unrecognised-dicom-name':
    'Este archivo tiene nombre de imagen médica, pero Ferry no puede leerlo como tal. No se enviará.',
  'dicomdir-unreadable':
    'El índice del disco (DICOMDIR) está dañado, así que Ferry revisó todos los archivos uno a uno.',
  'dicomdir-missing-file':
    'El índice del disco menciona una imagen que no está en el disco. Puede que el disco esté incompleto.',
  'dicomdir-unreferenced-file':
    'Esta imagen está en el disco pero no en su índice (DICOMDIR). Ferry la encontró de todos modos y la incluye.',
  'dicomdir-mismatch':
    'El índice del disco describe esta imagen de forma distinta a la propia imagen. Ferry usa lo que dice la imagen.',
  'dicomdir-unknown-record':
    'El índice del disco tiene entradas de un tipo que Ferry no conoce; las imágenes que dependen de ellas se incluyen igualmente.',
  'zip-unreadable':
    'Este archivo zip del disco no se pudo abrir, así que faltan las imágenes que contiene.',
  'zip-entry-unreadable': 'Este archivo dentro de un archivo zip no se pudo leer; no se enviará.',
  'file-meta-incomplete':
    'La cabecera de archivo estándar de esta imagen está incompleta. Ferry puede leerla y enviarla igualmente.',
  'file-meta-mismatch':
    'La cabecera de archivo de esta imagen la describe de forma distinta a la propia imagen. Ferry usa lo que dice la imagen.',
  'unknown-transfer-syntax':
    'Esta imagen está guardada en una codificación que Ferry no conoce, así que puede que el equipo médico no pueda abrirla; no se enviará.',
  'missing-identifier':
    'A esta imagen le faltan los identificadores que la asignan a un estudio y a una serie, así que el sistema que la recibe no puede guardarla; no se enviará.',
  'invalid-uid':
    'Un identificador de esta imagen no está escrito de la forma estándar. Se puede enviar, pero algunos sistemas pueden rechazarla o archivarla mal.',
  'unknown-sop-class':
    'Este archivo es un tipo de objeto médico que Ferry no reconoce (a menudo, uno propio de un fabricante). Se puede enviar, pero puede que el sistema que lo recibe no lo acepte o no lo muestre.',
  'required-attribute-missing':
    'Falta o está vacía información que este tipo de imagen debe llevar. Aun así, se puede enviar; el sistema que la recibe puede mostrarla de forma incompleta.',
  'type2-attribute-missing':
    'Faltan algunos campos estándar de esta imagen (pueden estar vacíos, pero deberían estar). Aun así, se puede enviar.',
  'conditional-attribute-missing':
    'Falta información que esta imagen debe llevar en su caso concreto (por ejemplo, el juego de caracteres de su texto con acentos). Aun así, se puede enviar; puede que el sistema que la reciba la muestre incompleta.',
  'attribute-not-allowed':
    'Esta imagen lleva campos que se contradicen, cuando la norma solo permite uno de ellos. Aun así, se puede enviar; puede que el sistema que la reciba la muestre de otra forma.',
  'enumerated-value-invalid':
    'Algunos campos codificados de esta imagen tienen un valor que la norma no define (por ejemplo, un sexo distinto de M, F u O). Aun así, se puede enviar; puede que el sistema que la reciba los interprete mal.',
  'sequence-item-invalid':
    'Algunos datos anidados dentro de este archivo (referencias a otras imágenes, términos codificados) están incompletos. Aun así, se puede enviar; puede que el sistema que lo reciba lo muestre incompleto.',
  'sr-content-invalid':
    'Este informe no está organizado de la forma estándar (faltan títulos, valores o referencias). Aun así, se puede enviar; puede que el sistema que lo reciba lo muestre incompleto.',
  'invalid-value':
    'Algunos valores de esta imagen no están escritos de la forma estándar (formato, longitud o número incorrectos). Aun así, se puede enviar.',
  'element-order':
    'Los campos de esta imagen están guardados en desorden. Ferry puede leerla; puede que otros sistemas no.',
  'encoding-anomaly':
    'Esta imagen tiene un pequeño daño interno, pero Ferry pudo leerla. Aun así, se puede enviar.',
  'pixel-data-missing':
    'Este archivo de imagen no contiene ninguna imagen. Puede que se cortara al grabar el disco; no se enviará.',
  'pixel-data-short':
    'La imagen de este archivo es más pequeña de lo que indica su cabecera, así que no se puede mostrar bien; no se enviará.',
  'pixel-data-long':
    'La imagen de este archivo tiene más bytes de los que indica su cabecera. Aun así, se puede enviar.',
  'pixel-description-invalid':
    'La descripción que esta imagen da de sí misma (tamaño, bits por píxel) es imposible, así que no se puede mostrar; no se enviará.',
  'duplicate-instance':
    'Esta imagen está en el disco más de una vez, idéntica cada vez. Se enviará una sola vez.',
  'conflicting-instance':
    'Dos archivos distintos del disco dicen ser la misma imagen. No se envía ninguno hasta que alguien decida cuál es el correcto.',
  'uid-hierarchy-conflict':
    'El mismo estudio o la misma serie aparece en este disco con distintos pacientes o estudios. El estudio no se envía hasta que se resuelva.',
  'study-incomplete':
    'Un estudio o una serie de este disco parece incompleto: sus imágenes indican que debería haber más de las que tiene el disco.',
  'several-patients':
    'Este disco tiene imágenes de más de una persona. Compruebe que solo se envían los estudios de la persona correcta.',
  'patient-mismatch':
    'El nombre o la fecha de nacimiento de estas imágenes no coincide con la persona para la que se creó este enlace de envío. No se envían a menos que usted confirme que son de esa persona.',
  'patient-unverified':
    'Estas imágenes no llevan nombre ni fecha de nacimiento, así que Ferry no puede comprobar que sean de la persona para la que se creó este enlace de envío.',
  'burned-in-text-likely':
    'Puede que esta imagen tenga nombres u otros datos escritos dentro de la propia imagen. Revísela en la vista previa antes de enviarla.',
  'document-attached':
    'Esto es un documento (por ejemplo, un informe en PDF), que puede contener nombres, direcciones y otros datos personales. Revíselo en la vista previa antes de enviarlo.',
  'free-text-report':
    'Esto es un informe escrito, cuyo texto puede mencionar nombres y otros datos personales. Revíselo en la vista previa antes de enviarlo.',
  'free-text-comments':
    'Esta imagen lleva comentarios escritos, que pueden mencionar nombres u otros datos personales. Se muestran en la vista previa.',
  'deid-burned-in-risk':
    'Puede que esta imagen muestre el nombre del paciente u otros datos personales escritos dentro de la propia imagen. Revísela, o tape esas zonas, antes de enviarla.',
  'deid-mask-refused':
    'Ferry no puede tapar partes de esta imagen (por ejemplo, porque está comprimida), así que no se enviará con esas zonas sin tapar.',
  'deid-failed':
    'No se pudieron quitar los datos personales de este archivo, así que no se enviará.',
};
